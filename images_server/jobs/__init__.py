"""Background work on a huey queue: the queue built from settings (`queue.py`), the tasks
(`tasks.py`), what they do (`variants.py`), and the consumer `images-server worker` runs
(`worker.py`). Tasks run through the same render spine as requests.

huey's storage module imports redis and psycopg whenever they are installed, for backends
this server may never use (and redis in turn loads OpenTelemetry's SDK): about 15 MB in every
process on the embedded SQLite queue. So huey is first imported here, before any module of
this package, with the two hidden from it; `huey_redis()` hands huey the redis client when a
Redis queue is built (`queue.build_queue`). huey's PostgreSQL backend is never used.
"""

from __future__ import annotations

import sys


def _import_huey() -> None:
    """Import huey without letting it import redis or psycopg (unless already imported)."""
    if "huey" in sys.modules:
        return
    hidden = [name for name in ("redis", "psycopg") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # `import name` raises ImportError
    try:
        import huey  # noqa: F401 - its storage module binds the backends it found, now
    finally:
        for name in hidden:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]


def huey_redis() -> None:
    """Give huey's Redis storage the redis client it went without (see above)."""
    from huey import storage

    if storage.Redis is not None:
        return
    import redis
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    storage.ConnectionPool = redis.ConnectionPool
    storage.ConnectionError = RedisConnectionError
    storage.TimeoutError = RedisTimeoutError
    storage.Redis = redis.Redis
    storage.RedisStorage.redis_client = redis.Redis  # bound when the class was made


_import_huey()
