"""`pipeline.adjust_steps` applied with ImageMagick (Wand), in place: colour matrices with
offsets, `-gamma`, pixelation by exact `-scale` of whole blocks, and rounded corners from the
mask `engines.measure` computes (shared with libvips, so the corners agree to the pixel).
"""

from __future__ import annotations

import ctypes

from wand.api import library
from wand.color import Color
from wand.image import STORAGE_TYPES, BaseImage, Image

from images_server.engines.colour import css_rgba
from images_server.engines.measure import corner_mask, trim_box_of_bytes
from images_server.pipeline.adjust_steps import (
    AdjustStep,
    GammaBy,
    PixelateIn,
    RecolourBy,
    RoundCorners,
)
from images_server.pipeline.geometry import Box
from images_server.pipeline.ops import Rgba


def _recolour(image: BaseImage, step: RecolourBy) -> None:
    # a 6-column matrix: R, G, B, K, A, then the offset as a share of the full range
    rows = [
        [*row, 0.0, 0.0, offset / 255] for row, offset in zip(step.matrix, step.offset, strict=True)
    ]
    image.color_matrix(rows)


def _pixelate(image: BaseImage, step: PixelateIn) -> None:
    for blocks in step.regions:
        box = blocks.box
        with image[box.x : box.x + box.width, box.y : box.y + box.height] as region:
            region.scale(box.width // blocks.width, box.height // blocks.height)
            region.sample(box.width, box.height)
            image.composite(region, left=box.x, top=box.y, operator="copy")


def _import_alpha(image: BaseImage, data: bytes) -> None:
    """Set the alpha channel from 8-bit bytes (Wand's `import_pixels` copies through a list)."""
    buffer = (ctypes.c_ubyte * len(data)).from_buffer_copy(data)
    storage = STORAGE_TYPES.index("char")
    if not library.MagickImportImagePixels(image.wand, 0, 0, image.width, image.height, b"A",
                                           storage, ctypes.byref(buffer)):  # fmt: skip
        raise image.raise_exception()


def _round_corners(image: BaseImage, step: RoundCorners, fill: Rgba) -> None:
    width, height = image.size
    with Image(width=width, height=height, background=Color("white")) as mask:
        mask.alpha_channel = "set"
        _import_alpha(mask, corner_mask(width, height, step.rx, step.ry).write_to_memory())
        image.alpha_channel = "set"
        image.composite(mask, 0, 0, operator="dst_in")  # alpha times coverage
    if fill[3]:
        image.background_color = Color(css_rgba(fill))
        image.extent(width, height)  # onto a canvas of the fill, as pad does
        image.reset_coords()


def trim_box(image: BaseImage, threshold: int) -> Box | None:
    """The box `engines.measure.trim_box` finds in this frame's pixels."""
    bands = "rgba" if image.alpha_channel else "rgb"
    data = image.make_blob(bands)
    return trim_box_of_bytes(data, image.width, image.height, len(bands), threshold)


def apply_adjust(image: BaseImage, step: AdjustStep, fill: Rgba) -> None:
    match step:
        case RecolourBy():
            _recolour(image, step)
        case GammaBy(value):
            image.gamma(value, channel="rgb")
        case PixelateIn():
            _pixelate(image, step)
        case RoundCorners():
            _round_corners(image, step, fill)
