"""Format and size of an image from its header alone, before any decoder sees it.

`sniff` tells the input formats (`formats.INPUT_FORMATS`) apart by their magic bytes and reads
the size each header declares (turned upright by the EXIF orientation, AVIF `irot`, the TIFF
orientation tag), the frame or page count and whether there is alpha, without decoding a
pixel, so that a decompression bomb is refused by its pixel count before a decoder allocates
anything. It is pure Python and
defensive: any byte string either yields a `SourceInfo` or raises `UnsupportedFormat` (not
one of the input formats) or `UndecodableImage` (one of them, but its header is cut off or
corrupt); every walk over chunks, segments, blocks or boxes has a fixed budget.
Pass the whole file: frame counts come from walking it.
"""

from __future__ import annotations

from collections.abc import Callable

from images_server.errors import UnsupportedFormat
from images_server.formats import ImageFormat, avif, gif, heic, jpeg, jxl, png, svg, tiff, webp
from images_server.formats.header import SourceInfo

__all__ = ["SourceInfo", "for_decoders", "sniff", "sniff_format"]

_HEAD = 32

_Matcher = Callable[[bytes], bool]
_Parser = Callable[[bytes], SourceInfo]
_FORMATS: tuple[tuple[ImageFormat, _Matcher, _Parser], ...] = (
    ("jpeg", jpeg.matches, jpeg.parse),
    ("png", png.matches, png.parse),
    ("webp", webp.matches, webp.parse),
    ("gif", gif.matches, gif.parse),
    ("avif", avif.matches, avif.parse),
    ("heic", heic.matches, heic.parse),
    ("tiff", tiff.matches, tiff.parse),
    ("svg", svg.matches, svg.parse),
    ("jxl", jxl.matches, jxl.parse),
)


def sniff_format(head: bytes) -> ImageFormat | None:
    """The format named by the first 32 bytes, or None if it is not a supported one.

    An AVIF whose `avif`/`avis` brand is listed past byte 32 is only recognised by `sniff`.
    """
    head = head[:_HEAD]
    return next((name for name, matches, _ in _FORMATS if matches(head)), None)


def for_decoders(data: bytes) -> bytes:
    """`data` as libvips and ImageMagick must be handed it: the same bytes, but for an
    animated AVIF (major brand `avis`), which they refuse unless it reads `avif` and then
    decode as its still primary image (the first frame), and a PNG that lost its end, which
    gets an IEND (ImageMagick refuses it without one)."""
    if png.matches(data):
        return png.ended(data)
    return avif.for_decoders(data)


def sniff(data: bytes) -> SourceInfo:
    """Format, displayed size, orientation, frames and alpha, from the headers of `data`.

    Raises `UnsupportedFormat` (415) if `data` is none of the input formats, and
    `UndecodableImage` (422) if it is one but its header cannot be read.
    """
    for _, matches, parse in _FORMATS:
        if matches(data):
            return parse(data)
    raise UnsupportedFormat()
