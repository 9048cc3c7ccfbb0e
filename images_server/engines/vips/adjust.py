"""`pipeline.adjust_steps` applied with libvips: colour matrices, gamma, pixelation and
rounded corners, in float, then truncated to 8 bits as ImageMagick's Q16 values are when written
out (measured: rounding instead costs half a level on every other pixel); alpha is rounded. The
trim's box and the corners' mask come from `engines.measure`, shared with Wand.
"""

from __future__ import annotations

import pyvips

from images_server.engines.measure import corner_mask
from images_server.pipeline.adjust_steps import (
    AdjustStep,
    GammaBy,
    PixelateIn,
    RecolourBy,
    RoundCorners,
)
from images_server.pipeline.ops import Rgba


def _split(image: pyvips.Image) -> tuple[pyvips.Image, pyvips.Image | None]:
    if image.hasalpha():
        return image[: image.bands - 1], image[image.bands - 1]
    return image, None


def _join(colour: pyvips.Image, alpha: pyvips.Image | None) -> pyvips.Image:
    colour = colour.floor().cast("uchar")  # cast clamps to 0..255
    return colour if alpha is None else colour.bandjoin(alpha)


def _recolour(image: pyvips.Image, step: RecolourBy) -> pyvips.Image:
    colour, alpha = _split(image)
    matrix = pyvips.Image.new_from_list([list(row) for row in step.matrix])
    return _join(colour.recomb(matrix).linear([1.0] * 3, list(step.offset)), alpha)


def _gamma(image: pyvips.Image, value: float) -> pyvips.Image:
    colour, alpha = _split(image)
    return _join((colour / 255) ** (1 / value) * 255, alpha)


def _pixelate(image: pyvips.Image, step: PixelateIn) -> pyvips.Image:
    alpha = image.hasalpha()
    source = image.premultiply() if alpha else image.cast("float")
    out = source
    for blocks in step.regions:
        box = blocks.box
        region = source.crop(box.x, box.y, box.width, box.height)
        means = region.shrink(blocks.width, blocks.height)  # whole factors: exact block means
        out = out.insert(means.zoom(blocks.width, blocks.height), box.x, box.y)
    if alpha:
        out = out.unpremultiply()
        return _join(out[:3], out[3].rint().cast("uchar")).copy(interpretation="srgb")
    return out.floor().cast("uchar").copy(interpretation="srgb")


def _round_corners(image: pyvips.Image, step: RoundCorners, fill: Rgba) -> pyvips.Image:
    mask = corner_mask(image.width, image.height, step.rx, step.ry)
    if not image.hasalpha():
        image = image.bandjoin_const([255])
    colour, alpha = image[:3], image[3]
    image = colour.bandjoin((alpha * mask / 255).rint().cast("uchar"))
    if fill[3] == 0:
        return image
    canvas = image.new_from_image([float(c) for c in fill])
    return canvas.composite2(image, "over").rint().cast("uchar").copy(interpretation="srgb")


def apply_adjust(image: pyvips.Image, step: AdjustStep, fill: Rgba) -> pyvips.Image:
    match step:
        case RecolourBy():
            return _recolour(image, step)
        case GammaBy(value):
            return _gamma(image, value)
        case PixelateIn():
            return _pixelate(image, step)
        case RoundCorners():
            return _round_corners(image, step, fill)
