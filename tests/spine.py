"""The real render path on one engine, storage in memory and no result cache.

`make_spine(engine)(data, path)` stores `data` and renders the pipeline `path` through
`images_server.render.render`, the way `/image/<hash>/<path>` does, and returns the body.
The `spine` fixture (tests/conftest.py) gives one per `engine_name`.
"""

from __future__ import annotations

from collections.abc import Callable

from images_server.caches.null import NullCache
from images_server.engines import build_engine
from images_server.hashing import original_ref
from images_server.pipeline.parse import parse_pipeline
from images_server.pipeline.plan import make_plan
from images_server.render import render
from images_server.security.fetch import FetchPolicy
from images_server.services import Services
from images_server.settings import Settings
from images_server.storages.memory import MemoryStorage

Spine = Callable[[bytes, str], bytes]


def make_spine(engine_name: str, maxbytes_resize: bool = False) -> Spine:
    storage = MemoryStorage()
    services = Services(
        settings=Settings(engine=engine_name, maxbytes_resize=maxbytes_resize),
        storage=storage,
        cache=NullCache(),
        engine=build_engine(engine_name),
        fetch_policy=FetchPolicy(),
    )

    def run(data: bytes, path: str) -> bytes:
        ref = original_ref(data)
        storage.put(ref, data)
        return render(services, ref, make_plan(parse_pipeline(path, max_ops=10))).body

    return run
