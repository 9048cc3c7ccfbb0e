"""PNG (and APNG): IHDR, then the chunks before the image data for tRNS, acTL and eXIf."""

from __future__ import annotations

from dataclasses import dataclass

from images_server.engines.sniff._common import SourceInfo, displayed, require_size, uint_be
from images_server.engines.sniff._exif import exif_orientation
from images_server.errors import UndecodableImage

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES = frozenset({0, 2, 3, 4, 6})
_ALPHA_COLOUR_TYPES = frozenset({4, 6})
_MAX_DIMENSION = 2**31 - 1
_MAX_CHUNKS = 10_000


@dataclass
class _Ancillary:
    transparency: bool = False
    frames: int = 1
    orientation: int = 1


def matches(head: bytes) -> bool:
    return head.startswith(_SIGNATURE)


def parse(data: bytes) -> SourceInfo:
    if uint_be(data, 8, 4, "PNG header") != 13 or data[12:16] != b"IHDR":
        raise UndecodableImage("PNG does not start with its IHDR chunk")
    width = uint_be(data, 16, 4, "PNG header")
    height = uint_be(data, 20, 4, "PNG header")
    colour_type = uint_be(data, 25, 1, "PNG header")
    require_size(width, height, "PNG")
    if width > _MAX_DIMENSION or height > _MAX_DIMENSION or colour_type not in _COLOUR_TYPES:
        raise UndecodableImage("PNG header is corrupt")
    found = _ancillary(data, 33)
    shown_width, shown_height = displayed(width, height, found.orientation)
    has_alpha = found.transparency or colour_type in _ALPHA_COLOUR_TYPES
    return SourceInfo("png", shown_width, shown_height, found.orientation, found.frames, has_alpha)


def _ancillary(data: bytes, pos: int) -> _Ancillary:
    """What the chunks between IHDR and the image data say (later ones are not read)."""
    found = _Ancillary()
    for _ in range(_MAX_CHUNKS):
        if pos + 8 > len(data):
            return found
        length = uint_be(data, pos, 4, "PNG chunk")
        kind = data[pos + 4 : pos + 8]
        if kind in (b"IDAT", b"IEND"):
            return found
        if kind == b"tRNS":
            found.transparency = True
        elif kind == b"acTL" and length >= 8 and pos + 12 <= len(data):
            found.frames = max(1, uint_be(data, pos + 8, 4, "PNG acTL chunk"))
        elif kind == b"eXIf":
            found.orientation = exif_orientation(data[pos + 8 : pos + 8 + length])
        pos += 12 + length
    raise UndecodableImage("too many PNG chunks before the image data")
