"""SVG through libvips (librsvg), only ever on the sanitizer's rebuilt document.

The upload is rebuilt by `svg_sanitize` first, so librsvg never sees the uploaded bytes.
It is drawn at the size the render's first resize asks for (`Target`): a vector drawn large,
not a small bitmap scaled up, so a 100x100 icon resized to 2000 pixels keeps sharp edges.
Where the target's aspect ratio differs from the SVG's (a forced `!` resize), it is drawn at
the larger of the two scales, but never at more than `_MAX_OVERDRAW` times the target's
pixels (a `4000x1!` resize would otherwise draw a 4000x4000 square). Without a target it is
drawn at its declared size (`formats.svg`), which the source pixel limits have checked.
"""

from __future__ import annotations

import math

import pyvips

from images_server.decoders.svg_sanitize import sanitize
from images_server.decoders.target import Target
from images_server.formats.header import SourceInfo

_MAX_OVERDRAW = 4  # the raster holds at most this many times the target's pixels


def scale_for(info: SourceInfo, target: Target | None) -> float:
    """How much larger than its declared size the SVG is drawn for `target`."""
    if target is None:
        return 1.0
    across, down = target.width / info.width, target.height / info.height
    within = math.sqrt(_MAX_OVERDRAW * target.width * target.height / info.pixels)
    return max(min(across, down), min(max(across, down), within))


def decode(data: bytes, info: SourceInfo, target: Target | None) -> pyvips.Image:
    clean = sanitize(data, info.width, info.height)
    image = pyvips.Image.svgload_buffer(
        clean, scale=scale_for(info, target), unlimited=False, fail_on="error"
    )
    return image.colourspace("srgb").copy(interpretation="srgb")
