"""The services one app (or worker) runs with, built once from `Settings`.

No global state: `create_app` builds a `Services` and hands it to the views; tests build
their own with in-memory parts. `database` is the SQLAlchemy engine of the metadata database
(`Settings.database_url_or_default`); hand-built services may leave it None, and then uploads
keep no rows and metadata is read from the stored bytes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import Engine as DatabaseEngine

from images_server.caches import build_cache
from images_server.caches.base import ResultCache
from images_server.caches.purge import Purger, ResultCachePurger
from images_server.db.engine import make_engine
from images_server.engines import build_engine
from images_server.engines.base import Engine
from images_server.security.fetch import FetchPolicy
from images_server.security.ratelimit import Limiter
from images_server.settings import Settings
from images_server.storages import build_storage
from images_server.storages.base import Storage

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

    @property
    def purgers(self) -> tuple[Purger, ...]:
        """Everything that caches variants, the result cache first."""
        return (ResultCachePurger(self.cache), *self.http_purgers)


def build_services(settings: Settings) -> Services:
    return Services(
        settings=settings,
        storage=build_storage(settings),
        cache=build_cache(settings),
        engine=build_engine(settings.engine),
        fetch_policy=FetchPolicy.from_settings(settings),
        limiter=Limiter.from_settings(settings),
        database=_database(settings),
    )


def _database(settings: Settings) -> DatabaseEngine | None:
    """The metadata database engine; None (logged) when its directory cannot be made."""
    try:
        return make_engine(settings.database_url_or_default)
    except OSError as error:  # an unusable data dir: the app starts, /readyz says why
        log.error("no metadata database: %s", error)
        return None
