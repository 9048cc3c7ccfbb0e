"""JPEG: walk the marker segments up to the first frame header (SOFn)."""

from __future__ import annotations

import re

from images_server.engines.sniff._common import SourceInfo, displayed, require_size, uint_be
from images_server.engines.sniff._exif import exif_orientation
from images_server.errors import UndecodableImage

_SOI = b"\xff\xd8\xff"
# Like libjpeg's next_marker(): skip stray bytes and FF fill bytes up to the FF right before
# a marker code (FF 00 is a stuffed data byte). No `\xff+`: a long FF run would backtrack.
_MARKER = re.compile(rb"\xff([^\x00\xff])")
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0..7: no length field
_NOT_SOF = frozenset({0xC4, 0xC8, 0xCC})  # DHT, JPG, DAC share the C0..CF range
_NO_FRAME = frozenset({0xD8, 0xD9, 0xDA})  # SOI, EOI, SOS before any frame header
_APP1 = 0xE1
_MAX_SEGMENTS = 4096


def matches(head: bytes) -> bool:
    return head.startswith(_SOI)


def parse(data: bytes) -> SourceInfo:
    orientation: int | None = None
    pos = 2
    for _ in range(_MAX_SEGMENTS):
        found = _MARKER.search(data, pos)
        if found is None:
            raise UndecodableImage("JPEG ends before its frame header")
        marker, pos = found[1][0], found.end()
        if marker in _STANDALONE:
            continue
        if marker in _NO_FRAME:
            raise UndecodableImage("JPEG has no frame header before its image data")
        length = uint_be(data, pos, 2, "JPEG segment")
        if length < 2:
            raise UndecodableImage("JPEG segment with an impossible length")
        if 0xC0 <= marker <= 0xCF and marker not in _NOT_SOF:
            return _frame(data, pos, length, orientation or 1)
        if marker == _APP1 and orientation is None and data.startswith(b"Exif\x00", pos + 2):
            orientation = exif_orientation(data[pos + 2 : pos + length])
        pos += length
    raise UndecodableImage("too many JPEG segments before the frame header")


def _frame(data: bytes, pos: int, length: int, orientation: int) -> SourceInfo:
    # SOFn: length (2), sample precision (1), number of lines (2), samples per line (2), ...
    if length < 8:
        raise UndecodableImage("JPEG frame header is too short")
    height = uint_be(data, pos + 3, 2, "JPEG frame header")
    width = uint_be(data, pos + 5, 2, "JPEG frame header")
    require_size(width, height, "JPEG")
    shown_width, shown_height = displayed(width, height, orientation)
    return SourceInfo("jpeg", shown_width, shown_height, orientation=orientation)
