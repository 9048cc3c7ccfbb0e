"""`build_queue(settings)`: the huey instance for `IMAGES_QUEUE_URL`, and its readiness checks.

SQLite in the data dir is the embedded default (one file, no server; huey's SQLite storage
takes an exclusive transaction per dequeue, so several consumers on one host share it safely);
`redis://` is the scaled one, shared by workers on every host. Every call to either gives up
within seconds, so neither a probe nor an upload (whose eager variants are enqueued best
effort) hangs on a queue that does not answer: SQLite waits `TIMEOUT` for a lock; Redis
`REDIS_TIMEOUT` for an answer and `REDIS_CONNECT_TIMEOUT` for a connection, never retrying a
timeout (a hung Redis costs one wait, not four) and retrying a dropped connection once (a
Redis that restarted costs nothing).

Readiness: `check_queue` asks the storage for its queue length, which fails when the queue
cannot be reached. Workers `beat` (write the time into the queue's key-value store) every few
seconds; `check_workers` fails when jobs wait and no worker has beaten within
`IMAGES_WORKER_HEARTBEAT_TIMEOUT`, which is how a server with `serve --no-worker`, or whose
workers died, tells that its jobs will not run (a server that has just started gives its
worker that long to show up). One key shared by every worker: readiness only
asks whether any worker is alive, and the newest beat answers that.

Each worker also beats under its own key, named by its `worker_identity`, and records which
pack claim (pack id and attempt) it runs under a key of that claim: `worker_gone` then tells
whether the worker running a pack has died, so the pack is resumed at once instead of after the
stall timeout. A worker is gone when its own beat is older than the heartbeat timeout (or
missing), or, for a worker of this same machine and PID namespace, as soon as its process is
no longer running (the identity carries the process's start time, so a reused PID is not
mistaken for it).
"""

from __future__ import annotations

import os
import socket
import time
from functools import cache
from pathlib import Path

from huey import Huey, RedisHuey, SqliteHuey
from huey.constants import EmptyData

from images_server.errors import ServiceUnavailable
from images_server.jobs import huey_redis
from images_server.settings import Settings

QUEUE_NAME = "images-server"
HEARTBEAT_KEY = "images-server.worker-heartbeat"
WORKER_BEAT_PREFIX = "images-server.worker-heartbeat:"  # + a worker's identity
CLAIM_PREFIX = "images-server.pack-claim:"  # + "<pack id>:<attempt>": the identity running it
TIMEOUT = 5.0  # seconds any one call to the SQLite queue may wait for its lock
# Above huey's blocking dequeue (BRPOP of 1 s), which must not time out while it waits.
REDIS_TIMEOUT = 2.0
REDIS_CONNECT_TIMEOUT = 1.0


def build_queue(settings: Settings, immediate: bool = False, create: bool = True) -> Huey:
    """The queue at `settings.queue_url_or_default`; `immediate` runs tasks in the caller.

    `create=False` opens an existing SQLite queue without creating its directory or tables
    (what `images-server check` needs: it changes nothing)."""
    url = settings.queue_url_or_default
    if url.startswith(("redis://", "rediss://")):
        from redis import ConnectionPool
        from redis.backoff import NoBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.retry import Retry

        huey_redis()  # huey was imported without redis (images_server/jobs/__init__.py)
        pool = ConnectionPool.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT,
            socket_connect_timeout=REDIS_CONNECT_TIMEOUT,
            retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        )
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


def beat(huey: Huey, now: float | None = None, worker: str | None = None) -> None:
    """Record that a worker (`worker`, by its identity, too) is alive now (raises the
    storage's error when it is down)."""
    moment = repr(time.time() if now is None else now).encode("ascii")
    huey.storage.put_data(HEARTBEAT_KEY, moment)
    if worker is not None:
        huey.storage.put_data(WORKER_BEAT_PREFIX + worker, moment)


def _time(huey: Huey, key: str) -> float | None:
    value = huey.storage.peek_data(key)
    if value is EmptyData:
        return None
    try:
        return float(bytes(value).decode("ascii"))
    except ValueError:
        return None


def last_beat(huey: Huey) -> float | None:
    """The time of the newest worker heartbeat, or None when no worker ever beat."""
    return _time(huey, HEARTBEAT_KEY)


def worker_beat(huey: Huey, worker: str) -> float | None:
    """The time of the last heartbeat of the worker `worker`, None when it has none."""
    return _time(huey, WORKER_BEAT_PREFIX + worker)


def forget_worker(huey: Huey, worker: str) -> None:
    """Drop a worker's own heartbeat (it stopped, or it is gone)."""
    huey.storage.pop_data(WORKER_BEAT_PREFIX + worker)


def _stat_fields(pid: int | str) -> list[str] | None:
    """/proc/<pid>/stat from the state on (None when there is no such process)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()


@cache
def _scope() -> str:
    """This machine's boot and PID namespace: where a PID means the same process ('' when
    unknown: then only heartbeats count)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return ""
    return f"{boot}.{namespace}"


def worker_identity(pid: int | None = None) -> str:
    """A job worker's identity: `host pid scope start-time` (of this process by default)."""
    pid = os.getpid() if pid is None else pid
    fields = _stat_fields(pid)
    started = fields[19] if fields is not None and len(fields) > 19 else "0"
    return f"{socket.gethostname()} {pid} {_scope() or '-'} {started}"


def _running_here(worker: str) -> bool | None:
    """Whether the worker's process still runs, if it is of this machine and PID namespace;
    None when that cannot be told from here."""
    parts = worker.split(" ")
    if len(parts) != 4 or not _scope() or parts[2] != _scope() or not parts[1].isdigit():
        return None
    fields = _stat_fields(parts[1])
    if fields is None or fields[0] in ("Z", "X"):  # a zombie has stopped running jobs
        return False
    return len(fields) > 19 and fields[19] == parts[3]


def worker_gone(huey: Huey, worker: str, max_age: float, now: float | None = None) -> bool:
    """Whether the worker `worker` is dead: not running (on this machine), or, elsewhere,
    no heartbeat of its own within `max_age` seconds."""
    if _running_here(worker) is False:
        return True
    beaten = worker_beat(huey, worker)
    moment = time.time() if now is None else now
    return beaten is None or moment - beaten > max_age


def _claim_key(pack_id: str, attempt: int) -> str:
    return f"{CLAIM_PREFIX}{pack_id}:{attempt}"


def record_claim(huey: Huey, pack_id: str, attempt: int, worker: str) -> None:
    """Note that `worker` runs the pack's claim `attempt` (and forget the claim before it)."""
    huey.storage.put_data(_claim_key(pack_id, attempt), worker.encode())
    if attempt > 1:
        huey.storage.pop_data(_claim_key(pack_id, attempt - 1))


def claimed_by(huey: Huey, pack_id: str, attempt: int) -> str | None:
    """The identity of the worker running the pack's claim `attempt`, if it was recorded."""
    value = huey.storage.peek_data(_claim_key(pack_id, attempt))
    return None if value is EmptyData else bytes(value).decode(errors="replace")


def forget_claim(huey: Huey, pack_id: str, attempt: int) -> None:
    huey.storage.pop_data(_claim_key(pack_id, attempt))


def check_workers(
    huey: Huey, max_age: float, started: float | None = None, waiting: int | None = None
) -> str | None:
    """None when a worker beat within `max_age` seconds; a note when none did but no job waits;
    `ServiceUnavailable` when jobs wait and no worker is there to run them.

    `started`: when the caller's server started; for `max_age` seconds after it, a worker that
    has not beaten yet is taken to be starting (`serve` starts one beside gunicorn).
    `waiting`: the count `check_queue` just gave, so the queue is not asked twice."""
    if waiting is None:
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
