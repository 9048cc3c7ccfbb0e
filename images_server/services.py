"""The services one app (or worker) runs with, built once from `Settings`.

No global state: `create_app` builds a `Services` and hands it to the views; tests build
their own with in-memory parts. `database` is the SQLAlchemy engine of the metadata database
(`Settings.database_url_or_default`); hand-built services may leave it None, and then uploads
keep no rows and metadata is read from the stored bytes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Engine as DatabaseEngine

from images_server.caches import build_cache
from images_server.caches.base import ResultCache
from images_server.caches.cloudflare import http_purgers
from images_server.caches.purge import Purger, ResultCachePurger
from images_server.db.engine import make_engine
from images_server.engines import build_engine
from images_server.engines.base import Engine
from images_server.errors import ServiceUnavailable
from images_server.security.fetch import FetchPolicy
from images_server.security.ratelimit import Limiter
from images_server.settings import Settings
from images_server.storages import build_storage
from images_server.storages.base import Storage

if TYPE_CHECKING:
    from images_server.jobs.tasks import Jobs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    settings: Settings
    storage: Storage
    cache: ResultCache
    engine: Engine
    fetch_policy: FetchPolicy
    limiter: Limiter = field(default_factory=Limiter.unlimited)  # hand-built services: no limits
    database: DatabaseEngine | None = None  # hand-built services: no metadata database
    http_purgers: tuple[Purger, ...] = ()  # caches in front of the app: NGINX, a CDN
    jobs: Jobs | None = None  # hand-built services: no background jobs

    def require_database(self) -> DatabaseEngine:
        """The metadata database; `ServiceUnavailable` (503) when there is none."""
        if self.database is None:
            raise ServiceUnavailable("no metadata database (see the server log)")
        return self.database

    @property
    def purgers(self) -> tuple[Purger, ...]:
        """Everything that caches variants, the result cache first."""
        return (ResultCachePurger(self.cache), *self.http_purgers)


def build_services(settings: Settings) -> Services:
    services = Services(
        settings=settings,
        storage=build_storage(settings),
        cache=build_cache(settings),
        engine=build_engine(settings.engine),
        fetch_policy=FetchPolicy.from_settings(settings),
        limiter=Limiter.from_settings(settings),
        database=_database(settings),
        http_purgers=http_purgers(settings),
        jobs=_jobs(settings),
    )
    if services.jobs is not None:
        services.jobs.bind(services)
    return services


def _jobs(settings: Settings) -> Jobs | None:
    """The job queue and its tasks; None (logged) when the queue cannot be opened."""
    from images_server.jobs.queue import build_queue  # jobs use the spine, which uses Services
    from images_server.jobs.tasks import Jobs

    try:
        return Jobs(build_queue(settings))
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
