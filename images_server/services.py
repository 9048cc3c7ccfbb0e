"""The services one app (or worker) runs with, built once from `Settings`.

No global state: `create_app` builds a `Services` and hands it to the views; tests build
their own with in-memory parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from images_server.caches import build_cache
from images_server.caches.base import ResultCache
from images_server.engines import build_engine
from images_server.engines.base import Engine
from images_server.security.fetch import FetchPolicy
from images_server.security.ratelimit import Limiter
from images_server.settings import Settings
from images_server.storages import build_storage
from images_server.storages.base import Storage


@dataclass(frozen=True)
class Services:
    settings: Settings
    storage: Storage
    cache: ResultCache
    engine: Engine
    fetch_policy: FetchPolicy
    limiter: Limiter = field(default_factory=Limiter.unlimited)  # hand-built services: no limits


def build_services(settings: Settings) -> Services:
    return Services(
        settings=settings,
        storage=build_storage(settings),
        cache=build_cache(settings),
        engine=build_engine(settings.engine),
        fetch_policy=FetchPolicy.from_settings(settings),
        limiter=Limiter.from_settings(settings),
    )
