"""The one place that builds the server's services from `Settings`, in one pass.

`build(settings)` makes every part (storage, result cache, engine, fetch policy, rate limiter,
metadata database, HTTP-cache purgers, the API keys writes are checked against) and then the
job queue with its tasks, which run on those same parts; the app gets `Services` with the
queue (seen as `services.JobQueue`), a job worker also gets the queue's `Jobs` to consume it.
Each part is picked by its short name in the settings from its package's registry
(`storages.STORAGES`, `caches.CACHES`, `engines.ENGINES`). `for_web(settings, services)` is
what `create_app` runs on: those, or hand-built services (tests) completed with their API keys.
`in_memory(settings)` is the same engine and settings with originals kept in memory and no
result cache: `images-server pack`, and tests that only render.

A part that cannot be opened at start (the database's directory, the queue) is logged and
left out, so the app still starts and `/readyz` says what is missing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from sqlalchemy import Engine as DatabaseEngine

from images_server.caches import build_cache
from images_server.caches.cloudflare import http_purgers
from images_server.caches.null import NullCache
from images_server.db.engine import make_engine
from images_server.engines import build_engine
from images_server.jobs.queue import build_queue
from images_server.jobs.tasks import Jobs
from images_server.security.auth import ApiKeys, DatabaseKeys, KeyChecker
from images_server.security.fetch import FetchPolicy
from images_server.security.ratelimit import Limiter
from images_server.services import Services
from images_server.settings import Settings
from images_server.storages import build_storage
from images_server.storages.memory import MemoryStorage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Built:
    """The services (the queue among them, when it opened) and the queue's tasks."""

    services: Services
    jobs: Jobs | None


def build(settings: Settings, worker: str | None = None) -> Built:
    """Every service `settings` describe; `worker`: the identity of the job worker that runs
    the queue's tasks in this process (None in the web app)."""
    database = _database(settings)
    parts = Services(
        settings=settings,
        storage=build_storage(settings),
        cache=build_cache(settings),
        engine=build_engine(settings.engine),
        fetch_policy=FetchPolicy.from_settings(settings),
        limiter=Limiter.from_settings(settings),
        database=database,
        http_purgers=http_purgers(settings),
        key_checker=key_checker(settings, database),
    )
    jobs = _jobs(settings, parts, worker)
    return Built(replace(parts, jobs=jobs), jobs)


def build_services(settings: Settings) -> Services:
    """The services of a web app."""
    return build(settings).services


def for_web(settings: Settings, services: Services | None = None) -> Services:
    """The services an app runs on: `services` (hand-built, for tests), with API keys checked
    as the settings say if they came without; else every service `settings` describe."""
    if services is None:
        return build_services(settings)
    if services.key_checker is None:
        return replace(services, key_checker=key_checker(settings, services.database))
    return services


def key_checker(settings: Settings, database: DatabaseEngine | None) -> KeyChecker:
    """The API keys of `IMAGES_API_KEYS` and of the metadata database (through `database`,
    else an engine of its own, made on first use)."""
    stored = DatabaseKeys(settings.database_url_or_default, database)
    return KeyChecker(ApiKeys.parse(settings.api_keys), stored)


def in_memory(settings: Settings) -> Services:
    """Services that keep nothing: originals in memory, no result cache, no database."""
    return Services(
        settings=settings,
        storage=MemoryStorage(),
        cache=NullCache(),
        engine=build_engine(settings.engine),
        fetch_policy=FetchPolicy.from_settings(settings),
    )


def _jobs(settings: Settings, parts: Services, worker: str | None) -> Jobs | None:
    """The job queue and its tasks; None (logged) when the queue cannot be opened."""
    try:
        return Jobs(build_queue(settings), parts, worker)
    except Exception as error:  # sqlite3, redis and OS errors: /readyz says why
        log.error("no job queue: %s", error)
        return None


def _database(settings: Settings) -> DatabaseEngine | None:
    """The metadata database engine; None (logged) when its directory cannot be made."""
    try:
        return make_engine(settings.database_url_or_default)
    except OSError as error:  # an unusable data dir: the app starts, /readyz says why
        log.error("no metadata database: %s", error)
        return None
