"""Serve an upload without what it says about its owner: GPS, serials, names, thumbnails.

`strip_metadata` rewrites an original, losslessly and in pure Python, so that every metadata
carrier is gone and the image data is copied byte for byte: Exif (with its GPS, serial
numbers, owner name and thumbnail), XMP, IPTC/Photoshop resources, comments, text chunks,
FlashPix and MPF segments (which hold thumbnails and secondary images) and anything a file
carries after its end marker. What is kept is what the pixels need to come out the same:
JFIF (pixel density) in JPEG, ICC profiles (colour), Adobe APP14 (which tells a decoder
whether 3 or 4 channels are RGB/YCbCr or CMYK/YCCK), every table and frame header; in PNG
and WebP the chunks that describe colour, transparency, density and animation; in GIF the
graphic control, plain text and looping (NETSCAPE2.0, ANIMEXTS1.0) extensions. An EXIF
orientation other than 1 is written back as a minimal Exif block holding that one tag, so
the image still displays upright. AVIF cannot be rewritten without moving its `iloc`
offsets: one carrying an Exif or XMP item yields None (the caller re-encodes it), any other
is returned as is. Every walk has a fixed budget; malformed input raises `UndecodableImage`.
"""

from __future__ import annotations

from collections.abc import Callable

from images_server.formats import avif, gif, jpeg, png, webp
from images_server.formats.header import SourceInfo

__all__ = ["strip_metadata"]

_STRIPPERS: dict[str, Callable[[bytes, int], bytes | None]] = {
    "jpeg": jpeg.strip,
    "png": png.strip,
    "webp": webp.strip,
    "gif": gif.strip,
    "avif": avif.strip,
}


def strip_metadata(data: bytes, info: SourceInfo) -> bytes | None:
    """`data` without its metadata, same image bytes; None if that takes a re-encode (and
    for HEIC, TIFF, JPEG XL and SVG, which are always re-encoded in a web format).

    `info` is what `sniff` said of `data`: its format picks the rewrite and its EXIF
    orientation (when not 1) is kept. Raises `UndecodableImage` if `data` is not the
    well-formed file of that format it should be.
    """
    stripper = _STRIPPERS.get(info.format)
    if stripper is None:  # not a web format: never served as it is
        return None
    orientation = info.orientation if 1 <= info.orientation <= 8 else 1
    return stripper(data, orientation)
