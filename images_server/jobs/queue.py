"""`build_queue(settings)`: the huey instance for `IMAGES_QUEUE_URL`, and its readiness checks.

SQLite in the data dir is the embedded default (one file, no server; huey's SQLite storage
takes an exclusive transaction per dequeue, so several consumers on one host share it safely);
`redis://` is the scaled one, shared by workers on every host. Every call to either gives up
after `TIMEOUT` seconds, so a probe never hangs on a queue that does not answer.

Readiness: `check_queue` asks the storage for its queue length, which fails when the queue
cannot be reached. Workers `beat` (write the time into the queue's key-value store) every few
seconds; `check_workers` fails when jobs wait and no worker has beaten within
`IMAGES_WORKER_HEARTBEAT_TIMEOUT`, which is how a server with `serve --no-worker`, or whose
workers died, tells that its jobs will not run (a server that has just started gives its
worker that long to show up). One key shared by every worker: readiness only
asks whether any worker is alive, and the newest beat answers that.
"""

from __future__ import annotations

import time
from pathlib import Path

from huey import Huey, RedisHuey, SqliteHuey
from huey.constants import EmptyData
from redis import ConnectionPool

from images_server.errors import ServiceUnavailable
from images_server.settings import Settings

QUEUE_NAME = "images-server"
HEARTBEAT_KEY = "images-server.worker-heartbeat"
TIMEOUT = 5.0  # seconds any one call to the queue's storage may take


def build_queue(settings: Settings, immediate: bool = False, create: bool = True) -> Huey:
    """The queue at `settings.queue_url_or_default`; `immediate` runs tasks in the caller.

    `create=False` opens an existing SQLite queue without creating its directory or tables
    (what `images-server check` needs: it changes nothing)."""
    url = settings.queue_url_or_default
    if url.startswith(("redis://", "rediss://")):
        pool = ConnectionPool.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
        return RedisHuey(QUEUE_NAME, connection_pool=pool, immediate=immediate, results=False)
    path = queue_file(settings)
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(
        QUEUE_NAME,
        filename=str(path),
        immediate=immediate,
        results=False,
        timeout=TIMEOUT,
        create_tables=create,
    )


def queue_file(settings: Settings) -> Path:
    """The file of the SQLite queue (meaningless for a Redis one)."""
    return Path(settings.queue_url_or_default.removeprefix("sqlite:///"))


def check_queue(huey: Huey) -> int:
    """The number of jobs waiting; `ServiceUnavailable` when the queue cannot be reached."""
    try:
        return int(huey.pending_count())
    except Exception as error:  # sqlite3, redis and OS errors: each storage has its own
        raise ServiceUnavailable(f"job queue: {type(error).__name__}: {error}") from error


def beat(huey: Huey, now: float | None = None) -> None:
    """Record that a worker is alive now (raises the storage's error when it is down)."""
    moment = time.time() if now is None else now
    huey.storage.put_data(HEARTBEAT_KEY, repr(moment).encode("ascii"))


def last_beat(huey: Huey) -> float | None:
    """The time of the newest worker heartbeat, or None when no worker ever beat."""
    value = huey.storage.peek_data(HEARTBEAT_KEY)
    if value is EmptyData:
        return None
    try:
        return float(bytes(value).decode("ascii"))
    except ValueError:
        return None


def check_workers(huey: Huey, max_age: float, started: float | None = None) -> str | None:
    """None when a worker beat within `max_age` seconds; a note when none did but no job waits;
    `ServiceUnavailable` when jobs wait and no worker is there to run them.

    `started`: when the caller's server started; for `max_age` seconds after it, a worker that
    has not beaten yet is taken to be starting (`serve` starts one beside gunicorn)."""
    waiting = check_queue(huey)
    try:
        beaten = last_beat(huey)
    except Exception as error:  # as check_queue: any storage's errors
        raise ServiceUnavailable(f"job queue: {type(error).__name__}: {error}") from error
    now = time.time()
    age = None if beaten is None else max(0.0, now - beaten)
    if age is not None and age <= max_age:
        return None
    seen = "no job worker has ever run" if age is None else f"no job worker for {age:.0f} s"
    if waiting == 0:
        return f"{seen} (no job waits)"
    if started is not None and now - started <= max_age:
        return f"{seen} yet; {waiting} jobs waiting for one to start"
    raise ServiceUnavailable(
        f"{waiting} jobs waiting and {seen}: start `images-server worker` "
        "(or `serve` without --no-worker)"
    )
