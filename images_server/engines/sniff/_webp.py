"""WebP: the first chunk (VP8, VP8L or VP8X), and for VP8X the ANMF and EXIF chunks."""

from __future__ import annotations

from images_server.engines.sniff._common import SourceInfo, displayed, require_size, uint_le
from images_server.engines.sniff._exif import exif_orientation
from images_server.errors import UndecodableImage

_VP8_START_CODE = b"\x9d\x01\x2a"
_VP8L_SIGNATURE = 0x2F
_ALPHA_FLAG, _ANIMATION_FLAG = 0x10, 0x02
_MAX_CHUNKS = 100_000


def matches(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def parse(data: bytes) -> SourceInfo:
    kind = data[12:16]
    size = uint_le(data, 16, 4, "WebP chunk header")
    if kind == b"VP8 ":
        return _lossy(data)
    if kind == b"VP8L":
        return _lossless(data)
    if kind == b"VP8X":
        return _extended(data, size)
    raise UndecodableImage("WebP does not start with an image chunk")


def _lossy(data: bytes) -> SourceInfo:
    # frame tag (3), start code (3), then 14-bit width and height each with a 2-bit scale
    tag = uint_le(data, 20, 3, "WebP VP8 frame header")
    sizes = uint_le(data, 26, 4, "WebP VP8 frame header")
    if tag & 1 or data[23:26] != _VP8_START_CODE:
        raise UndecodableImage("WebP VP8 data does not start with a key frame")
    width, height = sizes & 0x3FFF, (sizes >> 16) & 0x3FFF
    require_size(width, height, "WebP")
    return SourceInfo("webp", width, height)


def _lossless(data: bytes) -> SourceInfo:
    signature = uint_le(data, 20, 1, "WebP VP8L header")
    bits = uint_le(data, 21, 4, "WebP VP8L header")
    if signature != _VP8L_SIGNATURE or bits >> 29 != 0:
        raise UndecodableImage("WebP VP8L header is corrupt")
    width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return SourceInfo("webp", width, height, has_alpha=bool(bits >> 28 & 1))


def _extended(data: bytes, size: int) -> SourceInfo:
    if size < 10:
        raise UndecodableImage("WebP VP8X chunk is too short")
    flags = uint_le(data, 20, 1, "WebP VP8X chunk")
    width = uint_le(data, 24, 3, "WebP VP8X chunk") + 1
    height = uint_le(data, 27, 3, "WebP VP8X chunk") + 1
    frames, orientation = _chunks(data, 20 + size + (size & 1))
    if not flags & _ANIMATION_FLAG:
        frames = 1
    elif frames == 0:
        raise UndecodableImage("animated WebP has no frame")
    shown_width, shown_height = displayed(width, height, orientation)
    has_alpha = bool(flags & _ALPHA_FLAG)
    return SourceInfo("webp", shown_width, shown_height, orientation, frames, has_alpha)


def _chunks(data: bytes, pos: int) -> tuple[int, int]:
    """How many ANMF chunks follow VP8X, and the orientation in the EXIF chunk (else 1)."""
    frames, orientation = 0, 1
    for _ in range(_MAX_CHUNKS):
        if pos + 8 > len(data):
            return frames, orientation
        kind = data[pos : pos + 4]
        size = uint_le(data, pos + 4, 4, "WebP chunk header")
        if kind == b"ANMF":
            frames += 1
        elif kind == b"EXIF":
            orientation = exif_orientation(data[pos + 8 : pos + 8 + size])
        pos += 8 + size + (size & 1)
    raise UndecodableImage("WebP has too many chunks to inspect")
