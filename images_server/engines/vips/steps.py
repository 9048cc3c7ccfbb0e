"""One resolved step applied to one frame with libvips.

Frames arrive as 8-bit sRGB with 3 bands, or 4 with alpha (`engine` guarantees it), and
leave the same way. Colour maths is shared with the Wand engine through `engines.colour`,
so filters give the same pixels on both.
"""

from __future__ import annotations

import pyvips

from images_server.engines.base import MAX_SIDE, Output
from images_server.engines.colour import FILTER_MATRICES
from images_server.engines.measure import trim_box
from images_server.engines.vips.adjust import apply_adjust
from images_server.engines.vips.colour import to_srgb
from images_server.pipeline.adjust_steps import GammaBy, PixelateIn, RecolourBy, RoundCorners
from images_server.pipeline.geometry import Box
from images_server.pipeline.ops import Rgba
from images_server.pipeline.steps import (
    BlurBy,
    CropTo,
    FilterWith,
    FlipAxes,
    OverlayAt,
    PadTo,
    RedactBoxes,
    ResizeTo,
    RotateBy,
    SharpenBy,
    Step,
    TrimThen,
    after_trim,
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


def _gaussblur(image: pyvips.Image, sigma: float) -> pyvips.Image:
    # float maths and a wide kernel, then truncation: what ImageMagick's Q16 -blur comes to
    return image.gaussblur(sigma, precision="float", min_ampl=0.01)


def _blur(image: pyvips.Image, sigma: float) -> pyvips.Image:
    if not image.hasalpha():
        return _gaussblur(image, sigma).floor().cast("uchar")
    blurred = _gaussblur(image.premultiply(), sigma).unpremultiply()
    return blurred.floor().cast("uchar")


def _sharpen(image: pyvips.Image, sigma: float) -> pyvips.Image:
    colour, alpha = _split(image)
    return _join((colour * 2 - _gaussblur(colour, sigma)).floor(), alpha)


def _filter(image: pyvips.Image, name: str) -> pyvips.Image:
    colour, alpha = _split(image)
    if name == "invert":
        return _join(colour.invert(), alpha)
    return _join(colour.recomb(FILTER_MATRICES[name]).floor(), alpha)  # truncates, as IM


def _pad(image: pyvips.Image, step: PadTo, fill: Rgba) -> pyvips.Image:
    """The image composited over a canvas of `fill`, as ImageMagick's `-extent` does."""
    image, background = _for_fill(image, fill)
    if not image.hasalpha() or fill[3] == 0:  # nothing shows through: place the pixels as they are
        return image.embed(
            step.left, step.top, step.width, step.height, extend="background", background=background
        )
    canvas = image.new_from_image(background).embed(0, 0, step.width, step.height, extend="copy")
    placed = canvas.composite2(image, "over", x=step.left, y=step.top)
    return placed.cast("uchar").copy(interpretation="srgb")


def _resize(image: pyvips.Image, width: int, height: int) -> pyvips.Image:
    if width <= image.width and height <= image.height:
        return image.thumbnail_image(width, height=height, size="force")
    if width < image.width or height < image.height:  # one side up, one down
        return image.resize(width / image.width, vscale=height / image.height)
    return _enlarge(image, width / image.width, height / image.height, (width, height))


def _enlarge(
    image: pyvips.Image, x_scale: float, y_scale: float, size: tuple[int, int]
) -> pyvips.Image:
    """Upsample with pixel centres aligned, as ImageMagick does (libvips' resize is half a
    pixel off when enlarging); bicubic, close to ImageMagick's Mitchell filter."""
    alpha = image.hasalpha()
    source = image.premultiply() if alpha else image
    enlarged = source.affine(
        [x_scale, 0, 0, y_scale],
        odx=0.5 * x_scale - 0.5,
        ody=0.5 * y_scale - 0.5,
        oarea=[0, 0, *size],
        interpolate=pyvips.Interpolate.new("bicubic"),
        extend="copy",
    )
    enlarged = enlarged.unpremultiply() if alpha else enlarged
    return enlarged.cast("uchar")


def _overlay(image: pyvips.Image, step: OverlayAt) -> pyvips.Image:
    """The overlay, decoded upright as sRGB and scaled, laid `over` each of its positions."""
    overlay = pyvips.Image.new_from_buffer(step.source.data, "")  # the first frame
    overlay = to_srgb(overlay.autorot())
    overlay = _resize(overlay, step.width, step.height)
    if not overlay.hasalpha():
        overlay = overlay.bandjoin_const([255])
    if step.opacity < 1:
        overlay = overlay[:3].bandjoin((overlay[3] * step.opacity).cast("uchar"))
    had_alpha = image.hasalpha()
    base = image if had_alpha else image.bandjoin_const([255])
    copies = [overlay] * len(step.positions)
    xs = [x for x, _ in step.positions]
    ys = [y for _, y in step.positions]
    placed = base.composite(copies, ["over"] * len(copies), x=xs, y=ys)
    placed = placed.cast("uchar").copy(interpretation="srgb")
    return placed if had_alpha else placed[:3]


def _trim(image: pyvips.Image, step: TrimThen, output: Output) -> pyvips.Image:
    """Crop to the box `engines.measure` finds, then the ops after the trim, sized for it."""
    box = trim_box(image, step.threshold) or Box(0, 0, image.width, image.height)
    for after in after_trim(step, box, MAX_SIDE[output.format]):
        image = apply_step(image, after, output)
    return image


def _pixelated(region: pyvips.Image, cell: int) -> pyvips.Image:
    """Each cell (the last row and column: what is left) filled with its pixels' mean."""
    region = region.copy_memory()
    columns, rows = -(-region.width // cell), -(-region.height // cell)
    means = bytearray()
    for top in range(0, region.height, cell):
        for left in range(0, region.width, cell):
            width, height = min(cell, region.width - left), min(cell, region.height - top)
            stats = region.crop(left, top, width, height).stats()
            means += bytes(round(stats(4, band + 1)[0]) for band in range(region.bands))
    small = pyvips.Image.new_from_memory(bytes(means), columns, rows, region.bands, "uchar")
    zoomed = small.zoom(cell, cell).crop(0, 0, region.width, region.height)
    return zoomed.copy(interpretation="srgb")


def _redact(image: pyvips.Image, step: RedactBoxes) -> pyvips.Image:
    for box in step.boxes:
        region = image.crop(box.x, box.y, box.width, box.height)
        if step.pixelate:
            region = _pixelated(region, step.cell(box))
        else:
            region = _blur(region, step.sigma(box))
        image = image.insert(region, box.x, box.y)
    return image


def apply_step(image: pyvips.Image, step: Step, output: Output) -> pyvips.Image:
    match step:
        case ResizeTo(width, height):
            return _resize(image, width, height)
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
        case OverlayAt():
            return _overlay(image, step)
        case RecolourBy() | GammaBy() | PixelateIn() | RoundCorners():
            return apply_adjust(image, step, output.fill)
        case TrimThen():
            return _trim(image, step, output)
        case RedactBoxes():
            return _redact(image, step)
