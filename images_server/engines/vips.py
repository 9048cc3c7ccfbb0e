"""The libvips engine (pyvips), the default: shrink-on-load through `thumbnail_buffer`.

libvips is set up for a server at import: its operation cache off (every request is a new
image), one worker thread per operation (gunicorn runs one process per core), and loaders
marked untrusted blocked, so only the five sniffed formats are ever parsed.
"""

from __future__ import annotations

import pyvips

from images_server.engines.base import Output, first_resize
from images_server.engines.sniff import SourceInfo
from images_server.errors import UndecodableImage
from images_server.pipeline.steps import CropTo, FlipAxes, ResizeTo, Resolved, RotateBy, Step

pyvips.cache_set_max(0)
pyvips.concurrency_set(1)
pyvips.block_untrusted_set(True)

_WHITE = [255.0, 255.0, 255.0]


def _load(data: bytes, info: SourceInfo, resolved: Resolved) -> tuple[pyvips.Image, int]:
    """The upright source, and how many leading steps decoding already did."""
    resize = first_resize(resolved)
    if resize is not None:
        image = pyvips.Image.thumbnail_buffer(
            data, resize.width, height=resize.height, size="force"
        )
        return image, 1
    return pyvips.Image.new_from_buffer(data, "").autorot(), 0


def _with_alpha(image: pyvips.Image) -> pyvips.Image:
    return image if image.hasalpha() else image.bandjoin_const([255])


def _rotate(image: pyvips.Image, step: RotateBy, output: Output) -> pyvips.Image:
    quarter = {90.0: image.rot90, 180.0: image.rot180, 270.0: image.rot270}.get(step.degrees)
    if quarter is not None:
        return quarter()
    if output.has_alpha:
        image = _with_alpha(image)
        background = [0.0] * image.bands
    else:
        background = _WHITE[: image.bands - int(image.hasalpha())] + [255.0] * image.hasalpha()
    rotated = image.rotate(step.degrees, background=background)
    return rotated.gravity(
        "centre", step.width, step.height, extend="background", background=background
    )


def _apply(image: pyvips.Image, step: Step, output: Output) -> pyvips.Image:
    match step:
        case ResizeTo(width, height):
            return image.thumbnail_image(width, height=height, size="force")
        case CropTo(box):
            return image.crop(box.x, box.y, box.width, box.height)
        case RotateBy():
            return _rotate(image, step, output)
        case FlipAxes(horizontal, vertical):
            if horizontal:
                image = image.fliphor()
            return image.flipver() if vertical else image


def _encode(image: pyvips.Image, output: Output) -> bytes:
    if image.format != "uchar":
        image = image.colourspace("srgb") if image.bands >= 3 else image
        image = image.cast("uchar") if image.format != "uchar" else image
    quality = output.quality
    match output.format:
        case "jpeg":
            if image.hasalpha():
                image = image.flatten(background=_WHITE[: image.bands - 1])
            buffer = image.jpegsave_buffer(Q=quality, optimize_coding=True, keep="icc")
        case "png":
            buffer = image.pngsave_buffer(compression=6, keep="icc")
        case "webp":
            buffer = image.webpsave_buffer(Q=quality, effort=4, keep="icc")
        case "avif":
            buffer = image.heifsave_buffer(Q=quality, compression="av1", effort=2, keep="icc")
        case "gif":
            buffer = image.gifsave_buffer(keep="none")
    return bytes(buffer)


class VipsEngine:
    name = "vips"
    version = "vips-{}.{}.{}".format(*(pyvips.version(i) for i in range(3)))

    def render(self, data: bytes, info: SourceInfo, resolved: Resolved, output: Output) -> bytes:
        try:
            image, done = _load(data, info, resolved)
            for step in resolved.steps[done:]:
                image = _apply(image, step, output)
            return _encode(image, output)
        except pyvips.Error as exc:
            raise UndecodableImage(f"the image could not be processed: {_first_line(exc)}") from exc


def _first_line(exc: pyvips.Error) -> str:
    return str(exc.message).strip().splitlines()[0] if exc.message else "libvips error"
