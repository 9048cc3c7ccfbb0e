"""The real render path on one engine, storage in memory and no result cache.

`make_spine(engine)(data, path)` stores `data` and renders the pipeline `path` through
`images_server.render.render`, the way `/image/<hash>/<path>` does, and returns the body.
The `spine` fixture (tests/conftest.py) gives one per `engine_name`.
"""

from __future__ import annotations

from collections.abc import Callable

from images_server.hashing import original_ref
from images_server.pipeline.parse import parse_pipeline
from images_server.pipeline.plan import make_plan
from images_server.render import render
from images_server.settings import Settings
from images_server.wiring import in_memory

Spine = Callable[[bytes, str], bytes]


def make_spine(engine_name: str, **settings: object) -> Spine:
    """The render path on `engine_name`, with any other `settings` (`svg_enabled=True`...)."""
    services = in_memory(Settings(engine=engine_name, **settings))  # type: ignore[arg-type]

    def run(data: bytes, path: str) -> bytes:
        ref = original_ref(data)
        services.storage.put(ref, data)
        return render(services, ref, make_plan(parse_pipeline(path, max_ops=10))).body

    return run
