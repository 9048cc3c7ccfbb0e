"""The images a plan lays over its source: `overlay` ops, drawn `text` and the watermark.

`watermarked` appends `IMAGES_WATERMARK` to a plan as its last op, so no op of the URL can
crop, cover or turn it away, and the watermark is part of every cache key (changing it makes
new variants rather than serving old ones). `load_overlays` reads each overlay an op names
from storage on a cache miss, once per hash, for `pipeline.steps.resolve`: a hash with no
stored image is left out, and resolve answers `400` naming the op; a missing watermark is the
server's fault (`503`), not the caller's. Each `text` op is drawn here (`engines.text`).
"""

from __future__ import annotations

from dataclasses import replace

from images_server.decoders import decodable
from images_server.engines.text import rasterize
from images_server.errors import ImageNotFound, ServiceUnavailable
from images_server.formats.sniff import sniff
from images_server.hashing import parse_hash
from images_server.pipeline.overlay import Overlay, OverlayImage
from images_server.pipeline.plan import Plan
from images_server.pipeline.text import Text
from images_server.services import Services
from images_server.settings import Settings


def watermarked(settings: Settings, plan: Plan) -> Plan:
    """`plan` with the server's watermark as its last op (the same plan when there is none)."""
    watermark = settings.watermark_overlay
    return plan if watermark is None else replace(plan, ops=(*plan.ops, watermark))


def overlay_hashes(plan: Plan) -> tuple[str, ...]:
    """The hashes of the images `plan` overlays, in order, once each."""
    return tuple(dict.fromkeys(op.image for op in plan.ops if isinstance(op, Overlay)))


def load_overlays(services: Services, plan: Plan) -> dict[str, OverlayImage]:
    """Each stored image `plan` overlays, by hash, with its upright size."""
    watermark = services.settings.watermark_overlay
    loaded: dict[str, OverlayImage] = {}
    for image in overlay_hashes(plan):
        try:
            data = services.storage.get(parse_hash(image))
        except ImageNotFound:
            if watermark is not None and image == watermark.image:
                raise ServiceUnavailable(
                    "the watermark image (IMAGES_WATERMARK) is not stored"
                ) from None
            continue
        info = sniff(data)
        # the engines read overlays themselves: a HEIC, TIFF, JXL or SVG goes as a PNG
        decoded, _ = decodable(data, info)
        loaded[image] = OverlayImage(decoded, info.width, info.height)
    for op in plan.ops:
        if isinstance(op, Text):
            loaded.setdefault(op.segment(), rasterize(op))
    return loaded
