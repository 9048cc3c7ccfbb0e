"""ImageMagick engine internals (Wand): decode (with the `jpeg:size` hint), encode.

Decoding a JPEG uses the `jpeg:size` hint, so libjpeg scales by 1/2, 1/4 or 1/8 while
decoding when the first step shrinks: the hint keeps the source's aspect ratio and is never
larger than the image (otherwise ImageMagick ignores it or upscales while decoding).
"""

from __future__ import annotations

import math

from wand.color import Color
from wand.exceptions import WandException
from wand.image import Image
from wand.resource import limits
from wand.version import MAGICK_VERSION_NUMBER

from images_server.engines.base import Output, first_resize
from images_server.engines.colour import css_rgba
from images_server.engines.sniff import SourceInfo
from images_server.engines.wand.steps import apply_step
from images_server.errors import UndecodableImage
from images_server.pipeline.steps import ResizeTo, Resolved

limits["thread"] = 1  # gunicorn runs one process per core; threads inside only contend

_IM_FORMATS = {"jpeg": "jpeg", "png": "png", "webp": "webp", "avif": "avif", "gif": "gif"}


def _jpeg_size_hint(info: SourceInfo, resize: ResizeTo) -> str | None:
    swapped = info.orientation >= 5  # the hint is in stored, not displayed, orientation
    stored_w, stored_h = (info.height, info.width) if swapped else (info.width, info.height)
    target_w, target_h = (resize.height, resize.width) if swapped else (resize.width, resize.height)
    scale = max(target_w / stored_w, target_h / stored_h)
    if scale >= 0.5:  # libjpeg's smallest useful step is 1/2
        return None
    return f"{math.ceil(stored_w * scale)}x{math.ceil(stored_h * scale)}"


def _read(data: bytes, info: SourceInfo, resolved: Resolved) -> Image:
    image = Image()
    resize = first_resize(resolved)
    if info.format == "jpeg" and resize is not None:
        hint = _jpeg_size_hint(info, resize)
        if hint:
            image.options["jpeg:size"] = hint
    image.read(blob=data)
    if len(image.sequence) > 1:
        first = Image(image=image.sequence[0])
        image.close()
        image = first
    image.reset_coords()
    image.auto_orient()
    return image


def _encode(image: Image, output: Output) -> bytes:
    icc = image.profiles["icc"]
    image.strip()  # drops EXIF (GPS, serials) and every other profile ...
    if icc:
        image.profiles["icc"] = icc  # ... but colours stay right
    if output.format == "jpeg" and image.alpha_channel:
        image.background_color = Color(css_rgba(output.flatten_on))
        image.alpha_channel = "remove"
    image.format = _IM_FORMATS[output.format]
    image.compression_quality = output.quality
    blob = image.make_blob()
    if blob is None:
        raise UndecodableImage("ImageMagick produced no output")
    return bytes(blob)


class WandEngine:
    name = "wand"
    version = f"wand-im{MAGICK_VERSION_NUMBER:x}"

    def render(self, data: bytes, info: SourceInfo, resolved: Resolved, output: Output) -> bytes:
        try:
            with _read(data, info, resolved) as image:
                for step in resolved.steps:
                    apply_step(image, step, output)
                return _encode(image, output)
        except WandException as exc:
            raise UndecodableImage(f"the image could not be processed: {exc}") from exc
