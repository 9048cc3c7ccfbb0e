"""Shared decoders: the inputs neither engine reads on its own (HEIC, TIFF, JPEG XL, SVG).

libvips' libheif has no HEVC decoder, ImageMagick's policy admits the five web formats only,
and an SVG must be sanitized before anything parses it; so each of these formats has one
decoder here, used by both engines, by `/metadata`, the upload check, packs, overlays and
face detection alike. A decoder returns the image upright, as a libvips image in grey or
RGB with or without alpha, in 8 or 16 bits, with its ICC profile when it has one; it is
told the size the render's first resize asks for (`Target`) so that an SVG is drawn at that
size (vector, not a scaled bitmap).

`decodable` hands the engines that image as a PNG (lossless, nothing kept but the ICC
profile), which they read like an upload of their own, so both engines give the same answers
and no engine code knows these formats. An image much larger than the target is reduced to
twice the target first, as `derivatives` does with its copies, so that a 12 MP HEIC
thumbnail does not carry 12 MP through a PNG.
"""

from __future__ import annotations

from collections.abc import Callable

import pyvips

from images_server.decoders import heic, jxl, svg, tiff
from images_server.decoders.target import Target
from images_server.errors import UndecodableImage
from images_server.formats.sniff import SourceInfo, for_decoders

Decode = Callable[[bytes, SourceInfo, Target | None], pyvips.Image]

_DECODERS: dict[str, Decode] = {
    "heic": heic.decode,
    "tiff": tiff.decode,
    "svg": svg.decode,
    "jxl": jxl.decode,
}

_REDUCE_ABOVE = 2  # the intermediate is reduced to this many times the target, at most


def is_shared(info: SourceInfo) -> bool:
    """Whether `info`'s format is decoded here rather than by the engines."""
    return info.format in _DECODERS


def decode(data: bytes, info: SourceInfo, target: Target | None = None) -> pyvips.Image:
    """The upright image of a shared format, every pixel checked (`UndecodableImage` if a
    pixel cannot be decoded: truncated, corrupt)."""
    try:
        return _DECODERS[info.format](data, info, target)
    except pyvips.Error as exc:
        message = str(exc.message).strip().splitlines()[0] if exc.message else "libvips error"
        raise UndecodableImage(
            f"the {info.format.upper()} image cannot be decoded: {message}"
        ) from exc


def decodable(
    data: bytes, info: SourceInfo, target: Target | None = None
) -> tuple[bytes, SourceInfo]:
    """`data` as the engines read it, with its header: a web format as it is (`for_decoders`),
    any other as a lossless PNG of its decoded pixels."""
    if not is_shared(info):
        return for_decoders(data), info
    image = _reduced(decode(data, info, target), target)
    try:
        png = image.pngsave_buffer(
            compression=1, bitdepth=16 if image.format == "ushort" else 8, keep="icc"
        )
    except pyvips.Error as exc:
        raise UndecodableImage(f"the {info.format.upper()} image cannot be decoded") from exc
    return png, SourceInfo("png", image.width, image.height, has_alpha=image.hasalpha())


def _reduced(image: pyvips.Image, target: Target | None) -> pyvips.Image:
    if target is None:
        return image
    width, height = _REDUCE_ABOVE * target.width, _REDUCE_ABOVE * target.height
    if image.width <= width or image.height <= height:
        return image
    return image.resize(width / image.width, vscale=height / image.height)


def thumbnail(
    data: bytes,
    info: SourceInfo,
    width: int,
    *,
    decoded: pyvips.Image | None = None,
    **options: object,
) -> pyvips.Image:
    """`pyvips.Image.thumbnail_buffer` for any input format (`/metadata`'s sample, faces);
    `decoded`: what `check` gave for these bytes, so a shared format is not decoded again."""
    if not is_shared(info):
        return pyvips.Image.thumbnail_buffer(for_decoders(data), width, **options)
    return (decoded or decode(data, info)).thumbnail_image(width, **options)


def header(data: bytes, info: SourceInfo, decoded: pyvips.Image | None = None) -> pyvips.Image:
    """An image whose header fields (interpretation, `exif-*`) describe `data`; lazily
    decoded, so reading fields costs no pixels where the loader allows (`decoded` as for
    `thumbnail`)."""
    if not is_shared(info):
        return pyvips.Image.new_from_buffer(for_decoders(data), "")
    return decoded or decode(data, info)


def check(data: bytes, info: SourceInfo) -> pyvips.Image:
    """Decode every pixel of a shared format; `UndecodableImage` if one cannot be. The image
    is given back for `header` and `thumbnail`: an upload decodes its HEIC or JPEG XL once
    (their decoders hand over pixels in memory; TIFF and SVG stream again, cheaply)."""
    image = decode(data, info)
    try:
        image.avg()
    except pyvips.Error as exc:
        raise UndecodableImage(
            f"the {info.format.upper()} image cannot be decoded completely"
        ) from exc
    return image
