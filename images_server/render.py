"""The spine: one Flask-free path from an image and a plan to response bytes.

    plan ──► cache.get(key) ─ hit ──────────────────────────────────────────► Rendered
                            └ miss ─► storage.get ─► sniff ─► resolve sizes ─► engine.render
                                                                         ─► cache.put ─► Rendered

A cache hit never touches storage or the engine. Every caller (`/image`, `/external`, later
presets and jobs) comes through `render`.
"""

from __future__ import annotations

from dataclasses import dataclass

from images_server.caches.base import CachedResult, CacheKey
from images_server.engines.base import Output, keeps_animation
from images_server.engines.sniff import MEDIA_TYPES, SourceInfo, sniff
from images_server.errors import InvalidPipeline
from images_server.hashing import ImageRef
from images_server.pipeline.ops import Crop
from images_server.pipeline.plan import Plan
from images_server.pipeline.steps import resolve
from images_server.services import Services

# Bump when a change in this code changes output pixels, so stale variants are not served.
RENDER_REVISION = "r2"


@dataclass(frozen=True)
class Rendered:
    body: bytes
    media_type: str
    etag: str  # unquoted, strong: the output is a pure function of what it is made of


def cache_key(services: Services, ref: ImageRef, plan: Plan) -> CacheKey:
    return CacheKey(ref, plan.variant(f"{RENDER_REVISION}/{services.engine.version}"))


def _etag(key: CacheKey) -> str:
    return f"{key.image.hash[:16]}-{key.variant[:24]}"


def _output(services: Services, plan: Plan, info: SourceInfo) -> Output:
    output_format = plan.output_format(info.format)
    if keeps_animation(info, output_format):
        for op in plan.ops:
            if isinstance(op, Crop) and op.geometry.gravity == "smart":
                raise InvalidPipeline(
                    f"'{op.segment()}': a smart crop cannot follow the content of every frame "
                    "of an animation; crop with a gravity, or add format/png for one frame"
                )
    quality = plan.output_quality(output_format)
    return Output(
        output_format,
        quality,
        background=plan.background,
        progressive=services.settings.jpeg_progressive,
        lossless=output_format == "webp" and quality == 100,
    )


def render(services: Services, ref: ImageRef, plan: Plan) -> Rendered:
    key = cache_key(services, ref, plan)
    if plan.is_identity:
        data = services.storage.get(ref)
        return Rendered(data, MEDIA_TYPES[sniff(data).format], _etag(key))
    hit = services.cache.get(key)
    if hit is not None:
        return Rendered(hit.body, hit.media_type, _etag(key))
    data = services.storage.get(ref)
    info = sniff(data)
    resolved = resolve(plan.ops, info.width, info.height, services.settings.max_output_pixels)
    output = _output(services, plan, info)
    result = CachedResult(
        services.engine.render(data, info, resolved, output), MEDIA_TYPES[output.format]
    )
    services.cache.put(key, result)
    return Rendered(result.body, result.media_type, _etag(key))
