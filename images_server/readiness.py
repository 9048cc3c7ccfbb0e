"""`check_readiness(settings)`: what `images-server check` reports, changing nothing.

The server's own readiness (`/readyz`) runs on services that may create what is missing (the
data dir, the SQLite files); a check must not, or checking a wrong path would bring it into
being. So each probe here only reads, or writes nothing that stays: a directory the server
would create on first use is ready when it could be created, an existing one when a small file
can be written to it, fsynced and removed (a full or read-only disk is not ready); a metadata
database that does not exist yet, or whose schema is behind, is not ready; a SQLite queue file
that does not exist yet holds no jobs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.exc import ArgumentError

from images_server.db.engine import make_engine, safe_url
from images_server.db.migrate import schema_behind
from images_server.errors import DatabaseUnavailable, ImagesError, ServiceUnavailable
from images_server.settings import Settings
from images_server.storages.filesystem import ensure_writable_dir


@dataclass(frozen=True)
class Check:
    name: str
    ready: bool
    note: str = ""  # why it is not ready, or something worth knowing when it is

    def line(self) -> str:
        state = "ok" if self.ready else "NOT READY"
        return f"{self.name}: {state}" + (f" ({self.note})" if self.note else "")


@dataclass(frozen=True)
class Readiness:
    checks: tuple[Check, ...]
    waiting: int | None  # jobs in the queue, when it could be read

    @property
    def ready(self) -> bool:
        return all(check.ready for check in self.checks)


def _directory(path: Path, what: str) -> str | None:
    """None when `path` is (or could be created as) a writable directory; else why not.

    An existing directory must take a small file, written, fsynced and removed (nothing is
    left): `access()` passes on a full disk, and for root on a read-only one."""
    if path.exists():
        if not path.is_dir():
            raise ServiceUnavailable(f"{what} {path} is not a directory")
        ensure_writable_dir(path, f"{what} {path}")
        return None
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise ServiceUnavailable(
            f"{what} {path} does not exist and cannot be created: "
            f"{parent} is not a writable directory"
        )
    return f"{path} does not exist yet; it is created on first use"


def _storage(settings: Settings) -> str | None:
    if settings.storage == "filesystem":
        return _directory(Path(os.path.abspath(settings.originals_dir)), "the storage root")
    from images_server.storages import build_storage

    build_storage(settings).check()  # S3: a HEAD of the bucket
    return None


def _cache(settings: Settings) -> str | None:
    if settings.cache == "filesystem":
        return _directory(Path(os.path.abspath(settings.cache_dir)), "the result cache")
    if settings.cache == "s3":
        from images_server.caches import S3Cache, build_cache

        cache = build_cache(settings)
        try:
            cache.check()  # a HEAD of the bucket, within the cache's own short timeouts
        finally:
            if isinstance(cache, S3Cache):
                cache.close()
    return None


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory ones)."""
    parsed = make_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return None
    return None if name.startswith("file:") else Path(name)


def _database(settings: Settings) -> str | None:
    url = settings.database_url_or_default
    shown = safe_url(url)
    try:
        path = _sqlite_file(url)
    except ArgumentError as error:
        raise ServiceUnavailable(f"IMAGES_DATABASE_URL is not a database URL: {shown}") from error
    if path is not None and not path.is_file():
        raise ServiceUnavailable(
            f"{shown} does not exist yet: run `images-server migrate` (`serve` and `worker` "
            "also create the embedded one)"
        )
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            behind = schema_behind(connection)
    except DatabaseUnavailable as error:
        raise ServiceUnavailable(f"{shown}: {error.reason}") from error
    finally:
        engine.dispose()
    if behind:
        raise ServiceUnavailable(f"{shown}: {behind}")
    return None


def _rate_limit(settings: Settings) -> str | None:
    from images_server.security.ratelimit import Limiter

    Limiter.from_settings(settings).check_storage()
    return None


def _queue_and_workers(settings: Settings) -> tuple[Check, Check, int | None]:
    from images_server.jobs.queue import build_queue, check_queue, check_workers, queue_file

    url = settings.queue_url_or_default
    if url.startswith("sqlite:///") and not queue_file(settings).is_file():
        note = f"{queue_file(settings)} does not exist yet, so no job waits"
        return Check("queue", True, note), Check("workers", True, "no job waits"), 0
    shown = safe_url(url)
    try:
        huey = build_queue(settings, create=False)
        waiting = check_queue(huey)
    except ServiceUnavailable as error:
        return Check("queue", False, f"{shown}: {error.message}"), Check("workers", False), None
    except Exception as error:  # sqlite3, redis and OS errors opening the queue
        reason = f"{shown}: {type(error).__name__}: {error}"
        return Check("queue", False, reason), Check("workers", False), None
    queue = Check("queue", True, f"{waiting} jobs waiting")
    try:
        workers_note = check_workers(huey, settings.worker_heartbeat_timeout, waiting=waiting)
    except ServiceUnavailable as error:
        return queue, Check("workers", False, error.message), waiting
    return queue, Check("workers", True, workers_note or ""), waiting


def _run(name: str, probe: Callable[[], str | None]) -> Check:
    try:
        note = probe()
    except ImagesError as error:
        return Check(name, False, error.message)
    return Check(name, True, note or "")


def check_readiness(settings: Settings) -> Readiness:
    """Every backing service's readiness, read without creating or changing anything."""
    queue, workers, waiting = _queue_and_workers(settings)
    checks = (
        _run("storage", lambda: _storage(settings)),
        _run("cache", lambda: _cache(settings)),
        _run("database", lambda: _database(settings)),
        queue,
        workers,
        _run("rate_limit", lambda: _rate_limit(settings)),
    )
    return Readiness(checks, waiting)
