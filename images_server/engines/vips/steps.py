"""One resolved step applied to one frame with libvips.

Frames arrive as 8-bit sRGB with 3 bands, or 4 with alpha (`engine` guarantees it), and
leave the same way. Colour maths is shared with the Wand engine through `engines.colour`,
so filters give the same pixels on both.
"""

from __future__ import annotations

import pyvips

from images_server.engines.base import Output
from images_server.engines.colour import FILTER_MATRICES
from images_server.pipeline.ops import Rgba
from images_server.pipeline.steps import (
    BlurBy,
    CropTo,
    FilterWith,
    FlipAxes,
    PadTo,
    ResizeTo,
    RotateBy,
    SharpenBy,
    Step,
)


def _split(image: pyvips.Image) -> tuple[pyvips.Image, pyvips.Image | None]:
    """Colour bands and the alpha band (None when opaque)."""
    if image.hasalpha():
        return image[: image.bands - 1], image[image.bands - 1]
    return image, None


def _join(colour: pyvips.Image, alpha: pyvips.Image | None) -> pyvips.Image:
    colour = colour.cast("uchar")
    return colour if alpha is None else colour.bandjoin(alpha)


def _for_fill(image: pyvips.Image, fill: Rgba) -> tuple[pyvips.Image, list[float]]:
    """The image, with an alpha band if the fill is not opaque, and the fill for its bands."""
    if fill[3] < 255 and not image.hasalpha():
        image = image.bandjoin_const([255])
    return image, [float(c) for c in (fill if image.hasalpha() else fill[:3])]


def _rotate(image: pyvips.Image, step: RotateBy, fill: Rgba) -> pyvips.Image:
    quarter = {90.0: image.rot90, 180.0: image.rot180, 270.0: image.rot270}.get(step.degrees)
    if quarter is not None:
        return quarter()
    image, background = _for_fill(image, fill)
    rotated = image.rotate(step.degrees, background=background)
    return rotated.gravity(
        "centre", step.width, step.height, extend="background", background=background
    )


def _blur(image: pyvips.Image, sigma: float) -> pyvips.Image:
    if not image.hasalpha():
        return image.gaussblur(sigma)
    blurred = image.premultiply().gaussblur(sigma).unpremultiply()
    return blurred.cast("uchar")


def _sharpen(image: pyvips.Image, sigma: float) -> pyvips.Image:
    colour, alpha = _split(image)
    blurred = colour.gaussblur(sigma, precision="float")
    return _join((colour * 2 - blurred).rint(), alpha)


def _filter(image: pyvips.Image, name: str) -> pyvips.Image:
    colour, alpha = _split(image)
    if name == "invert":
        return _join(colour.invert(), alpha)
    return _join(colour.recomb(FILTER_MATRICES[name]).rint(), alpha)


def _pad(image: pyvips.Image, step: PadTo, fill: Rgba) -> pyvips.Image:
    image, background = _for_fill(image, fill)
    return image.embed(
        step.left, step.top, step.width, step.height, extend="background", background=background
    )


def apply_step(image: pyvips.Image, step: Step, output: Output) -> pyvips.Image:
    match step:
        case ResizeTo(width, height):
            return image.thumbnail_image(width, height=height, size="force")
        case CropTo(box, smart=True):
            return image.smartcrop(box.width, box.height, interesting="attention")
        case CropTo(box):
            return image.crop(box.x, box.y, box.width, box.height)
        case RotateBy():
            return _rotate(image, step, output.fill)
        case FlipAxes(horizontal, vertical):
            image = image.fliphor() if horizontal else image
            return image.flipver() if vertical else image
        case BlurBy(sigma):
            return _blur(image, sigma)
        case SharpenBy(sigma):
            return _sharpen(image, sigma)
        case FilterWith(name):
            return _filter(image, name)
        case PadTo():
            return _pad(image, step, output.fill)
