"""Encoding with ImageMagick (Wand), with the same choices as the libvips engine.

Frames arrive stripped of every profile (`colour.to_srgb`), so no EXIF, XMP, IPTC or ICC
leaves. JPEG: 4:2:0 below quality 90 and 4:4:4 from 90 (set explicitly, since a JPEG
source carries its own sampling into the output otherwise), optimised Huffman tables up to
`OPTIMIZED_JPEG_PIXELS` (as the libvips engine), and progressive through the `pjpeg` coder
(ImageMagick 6 only reads the interlace of the wand, which Wand does not expose). PNG at
zlib level 6 with adaptive filtering; WebP lossy, or lossless when asked.

Animations, and AVIF with alpha (ImageMagick 6.9.11's AVIF writer drops the alpha band), are
handed to libvips' encoders as raw pixels (measured on ImageMagick 6.9.11 for animations:
its WebP writer gives each frame the delay of the next one and drops the loop count, and
its GIF writer leaves an opaque frame without a transparent index, so libnsgif restores
it to the opaque background colour under the holes of the next frame). JPEG XL, which
Debian's ImageMagick cannot write, goes the same way to the shared libjxl encoder. The
pixels are still all ImageMagick's.
"""

from __future__ import annotations

from dataclasses import replace

import pyvips
from wand.color import Color
from wand.image import Image

from images_server.engines.base import Output, optimised_jpeg_tables
from images_server.engines.budget import fit_bytes
from images_server.engines.colour import css_rgba
from images_server.engines.deadline import Deadline
from images_server.engines.quality import Encoder, auto_quality
from images_server.engines.vips.encode import WEBP_EFFORT
from images_server.engines.vips.encode import encode as vips_encode
from images_server.errors import UndecodableImage


def _set_options(image: Image, output: Output) -> None:
    match output.format:
        case "jpeg":
            half = output.chroma_subsampled
            image.options["jpeg:sampling-factor"] = "4:2:0" if half else "4:4:4"
            optimised = optimised_jpeg_tables(image.width, image.height)
            image.options["jpeg:optimize-coding"] = "true" if optimised else "false"
        case "png":
            image.options["png:compression-level"] = "6"
            image.options["png:compression-filter"] = "5"
        case "webp":
            image.options["webp:lossless"] = "true" if output.lossless else "false"
            image.options["webp:method"] = str(WEBP_EFFORT)


def _coder(output: Output) -> str:
    if output.format == "jpeg" and output.progressive:
        return "pjpeg"
    return output.format


def _as_vips(frames: Image) -> pyvips.Image:
    """ImageMagick's pixels (every frame, one after another) as a libvips strip."""
    count, width, height = len(frames.sequence), frames.width, frames.height
    bands = 4 if frames.alpha_channel else 3
    raw = frames.make_blob("RGBA" if bands == 4 else "RGB")
    if raw is None or len(raw) != count * width * height * bands:
        raise UndecodableImage("ImageMagick gave frames of an unexpected size")
    strip = pyvips.Image.new_from_memory(raw, width, height * count, bands, "uchar")
    return strip.copy(interpretation="srgb")


def _animation(frames: Image, output: Output) -> bytes:
    strip = _as_vips(frames)
    strip.set_type(pyvips.GValue.gint_type, "page-height", frames.height)
    strip.set_type(pyvips.GValue.array_int_type, "delay", _delays_ms(frames))
    strip.set_type(pyvips.GValue.gint_type, "loop", frames.loop)
    return vips_encode(strip, output)


def _delays_ms(frames: Image) -> list[int]:
    delays = []
    for index in range(len(frames.sequence)):
        frames.iterator_set(index)
        delays.append(frames.delay * 1000 // max(frames.ticks_per_second, 1))
    frames.iterator_reset()
    return delays


def encode_output(image: Image, output: Output, deadline: Deadline) -> bytes:
    """`image` encoded as `output`; with `quality/auto`, at the quality `engines.quality`
    chooses against ImageMagick's pixels (the same metric and search as libvips'); with
    `maxbytes`, at the highest quality that fits (`engines.budget`)."""
    if output.max_bytes is not None:
        return _fitted(image, output, output.max_bytes, deadline)
    if not output.auto_quality:
        return encode(image, output)
    reference = _as_vips(image)  # before encoding: JPEG's flattening changes `image`
    chosen = auto_quality(
        lambda quality: encode(image, replace(output, quality=quality)),
        reference, output.format, output.flatten_on, deadline,
    )  # fmt: skip
    return chosen.data


def _fitted(image: Image, output: Output, limit: int, deadline: Deadline) -> bytes:
    smaller: list[Image] = []

    def at(frames: Image) -> Encoder:
        return lambda quality: encode(frames, replace(output, quality=quality))

    def shrink(width: int, height: int) -> Encoder:
        small = image.clone()
        smaller.append(small)
        small.resize(width, height)
        return at(small)

    animated = len(image.sequence) > 1  # never shrunk
    try:
        chosen = fit_bytes(
            at(image), (image.width, image.height), limit, output.format, deadline,
            output.quality, shrink if output.shrink_to_fit and not animated else None,
        )  # fmt: skip
    finally:
        for small in smaller:
            small.close()
    return chosen.data


def encode(image: Image, output: Output) -> bytes:
    """`image` (one frame, or every frame of an animation) as `output`."""
    if len(image.sequence) > 1:
        return _animation(image, output)
    if output.format == "avif" and image.alpha_channel:
        return vips_encode(_as_vips(image), output)  # ImageMagick 6's AVIF writer drops alpha
    if output.format == "jxl":
        return vips_encode(_as_vips(image), output)  # Debian's ImageMagick has no JPEG XL
    if output.format == "jpeg" and image.alpha_channel:
        image.background_color = Color(css_rgba(output.flatten_on))
        image.alpha_channel = "remove"
    _set_options(image, output)
    if output.format != "png":
        image.compression_quality = output.quality
    image.format = _coder(output)
    blob = image.make_blob()
    if blob is None:
        raise UndecodableImage("ImageMagick produced no output")
    return bytes(blob)
