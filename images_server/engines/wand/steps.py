"""One resolved step applied to one frame with ImageMagick (Wand), in place.

Frames are `BaseImage`s (a whole image or one `SingleImage` of a sequence) in 8-bit sRGB;
`engine` guarantees it. Filters use the matrices of `engines.colour`, as the vips engine does.
"""

from __future__ import annotations

from wand.color import Color
from wand.image import BaseImage, Image

from images_server.engines.base import MAX_SIDE, Output
from images_server.engines.colour import FILTER_MATRICES, css_rgba
from images_server.engines.wand.adjust import apply_adjust, trim_box
from images_server.engines.wand.colour import to_srgb
from images_server.engines.wand.smartcrop import smart_box
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


def _prepare_fill(image: BaseImage, fill: Rgba) -> None:
    if fill[3] < 255:
        image.alpha_channel = "set"
    image.background_color = Color(css_rgba(fill))


def _crop(image: BaseImage, box: Box) -> None:
    image.crop(box.x, box.y, width=box.width, height=box.height)
    image.reset_coords()


def _rotate(image: BaseImage, step: RotateBy, fill: Rgba) -> None:
    if step.degrees % 90 == 0:
        image.rotate(step.degrees)
        return
    _prepare_fill(image, fill)
    image.rotate(step.degrees, background=image.background_color)
    if image.size != (step.width, step.height):
        image.extent(step.width, step.height, gravity="center")
    image.reset_coords()


def _filter(image: BaseImage, name: str) -> None:
    if name == "invert":
        image.negate(channel="rgb")
    else:
        image.color_matrix(FILTER_MATRICES[name])


def _pad(image: BaseImage, step: PadTo, fill: Rgba) -> None:
    _prepare_fill(image, fill)
    image.extent(step.width, step.height, x=-step.left, y=-step.top)
    image.reset_coords()


def _overlay(image: BaseImage, step: OverlayAt) -> None:
    """The overlay, read upright as sRGB (its first frame) and scaled, laid `over` each of its
    positions, with its alpha multiplied by the opacity."""
    with Image(blob=step.source.data) as read:
        overlay = Image(image=read.sequence[0]) if len(read.sequence) > 1 else read.clone()
    with overlay:
        overlay.auto_orient()
        to_srgb(overlay)
        overlay.alpha_channel = "set"
        overlay.resize(step.width, step.height)
        if step.opacity < 1:
            overlay.evaluate("multiply", step.opacity, channel="alpha")
        for x, y in step.positions:
            image.composite(overlay, left=x, top=y, operator="over")


def _trim(image: BaseImage, step: TrimThen, output: Output) -> None:
    """Crop to the box `engines.measure` finds, then the ops after the trim, sized for it."""
    box = trim_box(image, step.threshold) or Box(0, 0, image.width, image.height)
    for after in after_trim(step, box, MAX_SIDE[output.format]):
        apply_step(image, after, output)


def _pixelate(region: BaseImage, cell: int) -> None:
    """Each cell (the last row and column: what is left) filled with its pixels' mean."""
    width, height = region.width, region.height
    channels = "RGBA" if region.alpha_channel else "RGB"
    means = []
    for top in range(0, height, cell):
        for left in range(0, width, cell):
            with region[left : min(left + cell, width), top : min(top + cell, height)] as part:
                part.scale(1, 1)  # ImageMagick's -scale: the exact mean of the pixels
                means.append(part.export_pixels(channel_map=channels, storage="char"))
    columns = -(-width // cell)
    region.import_pixels(
        0, 0, columns, len(means) // columns, channel_map=channels, storage="char",
        data=[value for mean in means for value in mean],
    )  # fmt: skip
    region.crop(0, 0, width=columns, height=len(means) // columns)
    region.sample(columns * cell, len(means) // columns * cell)
    region.crop(0, 0, width=width, height=height)


def _redact(image: BaseImage, step: RedactBoxes) -> None:
    for box in step.boxes:
        with image[box.x : box.x + box.width, box.y : box.y + box.height] as region:
            if step.pixelate:
                _pixelate(region, step.cell(box))
            else:
                region.blur(radius=0, sigma=step.sigma(box))
            image.composite(region, left=box.x, top=box.y, operator="copy")


def apply_step(image: BaseImage, step: Step, output: Output) -> None:
    match step:
        case ResizeTo(width, height):
            image.resize(width, height)
        case CropTo(box, smart=True):
            _crop(image, smart_box(image, box.width, box.height))
        case CropTo(box):
            _crop(image, box)
        case RotateBy():
            _rotate(image, step, output.fill)
        case FlipAxes(horizontal, vertical):
            if horizontal:
                image.flop()
            if vertical:
                image.flip()
        case BlurBy(sigma):
            image.blur(radius=0, sigma=sigma)
        case SharpenBy(sigma):
            image.unsharp_mask(radius=0, sigma=sigma, amount=1.0, threshold=0.0)
        case FilterWith(name):
            _filter(image, name)
        case PadTo():
            _pad(image, step, output.fill)
        case OverlayAt():
            _overlay(image, step)
        case RecolourBy() | GammaBy() | PixelateIn() | RoundCorners():
            apply_adjust(image, step, output.fill)
        case TrimThen():
            _trim(image, step, output)
        case RedactBoxes():
            _redact(image, step)
