"""Encoding with libvips: one image, or an animation as a strip of frames with page-height.

No metadata ever leaves (`keep="none"`): not EXIF (GPS, serial numbers), XMP or IPTC, and
no ICC profile either, since `colour` made the pixels untagged sRGB. JPEG is subsampled
4:2:0 below quality 90 and 4:4:4 from 90 (`Output.chroma_subsampled`), with optimised Huffman
tables up to `OPTIMIZED_JPEG_PIXELS` (a quarter megapixel) and the standard ones above, where
optimising saves 1.5% for 2 to 3 times the encode time (`engines.base`, README "Encoder
effort"), progressive when asked.
WebP and AVIF use the efforts chosen from `make bench-encoders` too: for an 800x600 photo,
WebP effort 2 takes half the time of 4 for about 4% more bytes at the same quality, and AVIF
effort 0 about a sixth of the time of 2 for about 4% more.
JPEG XL goes through `engines.jxl_encode` (libjxl), as the libvips wheel has no writer.
"""

from __future__ import annotations

from dataclasses import replace

import pyvips

from images_server.engines import jxl_encode
from images_server.engines.base import Output, optimised_jpeg_tables
from images_server.engines.budget import fit_bytes
from images_server.engines.deadline import NO_DEADLINE, Deadline, watch_vips
from images_server.engines.quality import Encoder, auto_quality

WEBP_EFFORT = 2  # libwebp's method, 0..6
AVIF_EFFORT = 0  # libvips' 0..9, libaom's cpu-used 9..0


def encode_output(image: pyvips.Image, output: Output, deadline: Deadline) -> bytes:
    """`image` encoded as `output`; with `quality/auto`, at the quality `engines.quality`
    chooses against its pixels, computed once and held for the encoder runs; with
    `maxbytes`, at the highest quality that fits (`engines.budget`)."""
    if output.max_bytes is not None:
        return _fitted(image, output, output.max_bytes, deadline)
    if not output.auto_quality:
        return encode(image, output, deadline)
    pixels = watch_vips(image, deadline).copy_memory()
    deadline.check()
    chosen = auto_quality(
        lambda quality: encode(pixels, replace(output, quality=quality), deadline),
        pixels, output.format, output.flatten_on, deadline,
    )  # fmt: skip
    return chosen.data


def _fitted(image: pyvips.Image, output: Output, limit: int, deadline: Deadline) -> bytes:
    pixels = watch_vips(image, deadline).copy_memory()
    deadline.check()

    def at(held: pyvips.Image) -> Encoder:
        return lambda quality: encode(held, replace(output, quality=quality), deadline)

    def shrink(width: int, height: int) -> Encoder:
        return at(pixels.thumbnail_image(width, height=height, size="force").copy_memory())

    page = pixels.get("page-height") if pixels.get_typeof("page-height") else pixels.height
    animated = page < pixels.height  # a strip of frames: never shrunk
    chosen = fit_bytes(
        at(pixels), (pixels.width, page), limit, output.format, deadline, output.quality,
        shrink if output.shrink_to_fit and not animated else None,
    )  # fmt: skip
    return chosen.data


def encode(image: pyvips.Image, output: Output, deadline: Deadline = NO_DEADLINE) -> bytes:
    quality = output.quality
    if output.format == "jpeg" and image.hasalpha():
        image = image.flatten(background=list(output.flatten_on[:3])).cast("uchar")
    image = watch_vips(image, deadline)  # encoding is where the pipeline is computed
    match output.format:
        case "jpeg":
            buffer = image.jpegsave_buffer(
                Q=quality,
                optimize_coding=optimised_jpeg_tables(image.width, image.height),
                interlace=output.progressive,
                subsample_mode="on" if output.chroma_subsampled else "off",
                keep="none",
            )
        case "png":
            buffer = image.pngsave_buffer(compression=6, keep="none")
        case "webp":
            buffer = image.webpsave_buffer(
                Q=quality, lossless=output.lossless, effort=WEBP_EFFORT, keep="none"
            )
        case "avif":
            buffer = image.heifsave_buffer(
                Q=quality, compression="av1", effort=AVIF_EFFORT, keep="none"
            )
        case "gif":
            buffer = image.gifsave_buffer(keep="none")
        case "jxl":
            return encode_jxl(image, quality)
    return bytes(buffer)


def encode_jxl(image: pyvips.Image, quality: int) -> bytes:
    """`image` through the shared JPEG XL encoder (libvips' wheel has no `jxlsave`); the
    Wand engine hands its pixels here too."""
    sixteen = image.format == "ushort"
    if not sixteen and image.format != "uchar":
        image = image.cast("uchar")
    pixels = image.write_to_memory()
    return jxl_encode.encode(pixels, image.width, image.height, image.bands, quality, sixteen)
