"""JPEG: the marker segments, walked by the sniffer up to the first frame header (SOFn) and
by the stripper through the whole file.

Stripping keeps the segments a decoder needs and drops APPn metadata, comments and
trailers. Before the first scan (SOS) only JFIF APP0, ICC_PROFILE APP2, Adobe APP14 and the
non-APP segments are kept. From there on the entropy-coded data and the tables between scans
of a progressive file are copied verbatim, APPn and COM segments are dropped there too, and
the file ends at EOI: what follows (an MPF secondary image, a vendor trailer) carries its own
Exif.
"""

from __future__ import annotations

import re

from images_server.errors import UndecodableImage
from images_server.formats.exif import exif_orientation, orientation_tiff
from images_server.formats.header import SourceInfo, displayed, require_size, uint_be

_SOI_HEAD = b"\xff\xd8\xff"
_SOI, _EOI, _SOS = 0xD8, 0xD9, 0xDA
_APP0, _APP1, _APP2, _APP14, _APP15, _COM = 0xE0, 0xE1, 0xE2, 0xEE, 0xEF, 0xFE
# Like libjpeg's next_marker(): skip stray bytes and FF fill bytes up to the FF right before
# a marker code (FF 00 is a stuffed data byte). No `\xff+`: a long FF run would backtrack.
_MARKER = re.compile(rb"\xff([^\x00\xff])")
# Inside entropy-coded data, RST0..7 are part of the scan, not segments.
_SCAN_MARKER = re.compile(rb"\xff([^\x00\xff\xd0-\xd7])")
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0..7: no length field
_NOT_SOF = frozenset({0xC4, 0xC8, 0xCC})  # DHT, JPG, DAC share the C0..CF range
_NO_FRAME = frozenset({_SOI, _EOI, _SOS})  # before any frame header
_KEPT_APP = {_APP0: b"JFIF\0", _APP2: b"ICC_PROFILE\0", _APP14: b"Adobe"}
_MAX_SEGMENTS = 4096


def matches(head: bytes) -> bool:
    return head.startswith(_SOI_HEAD)


def _next_marker(
    data: bytes, pos: int, pattern: re.Pattern[bytes] = _MARKER
) -> re.Match[bytes] | None:
    """The next marker at or after `pos`: its code is group 1, its FF at `start()`."""
    return pattern.search(data, pos)


# --- Sniffing ------------------------------------------------------------------------------


def parse(data: bytes) -> SourceInfo:
    orientation: int | None = None
    pos = 2
    for _ in range(_MAX_SEGMENTS):
        found = _next_marker(data, pos)
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


# --- Stripping -----------------------------------------------------------------------------


def strip(data: bytes, orientation: int) -> bytes:
    if not data.startswith(b"\xff\xd8"):
        raise UndecodableImage("JPEG does not start with SOI")
    out = [data[:2]]
    pending = _orientation_app1(orientation) if orientation != 1 else b""
    pos = 2
    for _ in range(_MAX_SEGMENTS):
        found = _next_marker(data, pos)
        if found is None:
            raise UndecodableImage("JPEG ends before its image data")
        marker, start, pos = found[1][0], found.start(), found.end()
        if marker in _STANDALONE:
            out.append(data[start:pos])
            continue
        if marker in (_SOI, _EOI):
            raise UndecodableImage("JPEG has no image data")
        end = _segment_end(data, pos)
        kept = _kept(marker, data[pos + 2 : end])
        if kept and marker != _APP0:  # the orientation goes after JFIF, before the rest
            out.append(pending)
            pending = b""
        if kept:
            out.append(data[start:end])
        if marker == _SOS:
            return b"".join(out + _scans(data, end))
        pos = end
    raise UndecodableImage("too many JPEG segments before the image data")


def _scans(data: bytes, pos: int) -> list[bytes]:
    """Entropy-coded data and the segments between scans, up to and including EOI."""
    out: list[bytes] = []
    for _ in range(_MAX_SEGMENTS):
        found = _next_marker(data, pos, _SCAN_MARKER)
        if found is None:
            out.append(data[pos:])  # no EOI: decoders accept that, so does this
            return out
        marker, start = found[1][0], found.start()
        out.append(data[pos:start])
        if marker == _EOI:
            out.append(b"\xff\xd9")
            return out
        end = found.end() if marker == 0x01 else _segment_end(data, found.end())
        if not _is_metadata(marker):
            out.append(data[start:end])
        pos = end
    raise UndecodableImage("too many JPEG segments in the image data")


def _segment_end(data: bytes, pos: int) -> int:
    """The end of the segment whose length field is at `pos`."""
    length = uint_be(data, pos, 2, "JPEG segment")
    if length < 2 or pos + length > len(data):
        raise UndecodableImage("JPEG segment is cut off or has an impossible length")
    return pos + length


def _is_metadata(marker: int) -> bool:
    return _APP0 <= marker <= _APP15 or marker == _COM


def _kept(marker: int, payload: bytes) -> bool:
    """Whether a segment before the first scan stays: see the module docstring."""
    if not _is_metadata(marker):
        return True
    identifier = _KEPT_APP.get(marker)
    return identifier is not None and payload.startswith(identifier)


def _orientation_app1(orientation: int) -> bytes:
    payload = b"Exif\0\0" + orientation_tiff(orientation)
    return b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
