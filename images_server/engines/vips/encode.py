"""Encoding with libvips: one image, or an animation as a strip of frames with page-height.

No metadata ever leaves (`keep="none"`): not EXIF (GPS, serial numbers), XMP or IPTC, and
no ICC profile either, since `colour` made the pixels untagged sRGB. JPEG is subsampled
4:2:0 below quality 90 and 4:4:4 from 90 (`subsample_mode="auto"`), with optimised Huffman
tables, progressive when asked; AVIF uses effort 2, about 90 ms for a 600 px wide image.
"""

from __future__ import annotations

import pyvips

from images_server.engines.base import Output


def encode(image: pyvips.Image, output: Output) -> bytes:
    quality = output.quality
    match output.format:
        case "jpeg":
            if image.hasalpha():
                image = image.flatten(background=list(output.flatten_on[:3])).cast("uchar")
            buffer = image.jpegsave_buffer(
                Q=quality,
                optimize_coding=True,
                interlace=output.progressive,
                subsample_mode="auto",
                keep="none",
            )
        case "png":
            buffer = image.pngsave_buffer(compression=6, keep="none")
        case "webp":
            buffer = image.webpsave_buffer(
                Q=quality, lossless=output.lossless, effort=4, keep="none"
            )
        case "avif":
            buffer = image.heifsave_buffer(Q=quality, compression="av1", effort=2, keep="none")
        case "gif":
            buffer = image.gifsave_buffer(keep="none")
    return bytes(buffer)
