"""Services on the real render path (one engine, a real storage, no result cache), and
rendering a pipeline from the original or from its derivatives."""

from __future__ import annotations

from images_server.caches.null import NullCache
from images_server.engines import build_engine
from images_server.hashing import ImageRef, original_ref
from images_server.pipeline.parse import parse_pipeline
from images_server.pipeline.plan import Plan, make_plan
from images_server.render import render
from images_server.security.fetch import FetchPolicy
from images_server.services import Services
from images_server.settings import Settings
from images_server.storages.base import Storage
from images_server.storages.memory import MemoryStorage


def make_services(
    engine_name: str = "vips", storage: Storage | None = None, **overrides: object
) -> Services:
    """Services reading the original unless `derivatives=True` is passed (the default
    settings read copies)."""
    overrides.setdefault("derivatives", False)
    return Services(
        settings=Settings(engine=engine_name, **overrides),  # type: ignore[arg-type]
        storage=storage if storage is not None else MemoryStorage(),
        cache=NullCache(),
        engine=build_engine(engine_name),
        fetch_policy=FetchPolicy(),
    )


def plan_of(path: str) -> Plan:
    return make_plan(parse_pipeline(path, max_ops=10))


def store(services: Services, data: bytes) -> ImageRef:
    ref = original_ref(data)
    services.storage.put(ref, data)
    return ref


def render_path(services: Services, ref: ImageRef, path: str) -> bytes:
    return render(services, ref, plan_of(path)).body
