"""`build_queue(settings)`: the huey instance for `IMAGES_QUEUE_URL`.

SQLite in the data dir is the embedded default (one file, no server; huey's SQLite storage
takes an exclusive transaction per dequeue, so several consumers on one host share it safely);
`redis://` is the scaled one, shared by workers on every host. `check_queue` is the readiness
probe: it asks the storage for its queue length, which fails when the queue cannot be reached.
"""

from __future__ import annotations

from pathlib import Path

from huey import Huey, RedisHuey, SqliteHuey

from images_server.errors import ServiceUnavailable
from images_server.settings import Settings

QUEUE_NAME = "images-server"


def build_queue(settings: Settings, immediate: bool = False) -> Huey:
    """The queue at `settings.queue_url_or_default`; `immediate` runs tasks in the caller."""
    url = settings.queue_url_or_default
    if url.startswith(("redis://", "rediss://")):
        return RedisHuey(QUEUE_NAME, url=url, immediate=immediate, results=False)
    path = Path(url.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(QUEUE_NAME, filename=str(path), immediate=immediate, results=False)


def check_queue(huey: Huey) -> int:
    """The number of jobs waiting; `ServiceUnavailable` when the queue cannot be reached."""
    try:
        return int(huey.pending_count())
    except Exception as error:  # sqlite3, redis and OS errors: each storage has its own
        raise ServiceUnavailable(f"job queue: {type(error).__name__}: {error}") from error
