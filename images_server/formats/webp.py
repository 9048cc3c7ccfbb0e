"""WebP: the RIFF chunks, read by the sniffer (the first, VP8, VP8L or VP8X, and for VP8X the
ANMF and EXIF chunks) and rewritten by the stripper.

Stripping keeps the image chunks, ICC profile and animation and drops EXIF, XMP and unknown
chunks. The VP8X flags are brought in line (no EXIF, no XMP), and the RIFF size recomputed. A
simple WebP (VP8 or VP8L first, no VP8X) has nowhere to keep metadata: it comes back as is,
minus anything past the RIFF size.
"""

from __future__ import annotations

from images_server.errors import UndecodableImage
from images_server.formats.exif import exif_orientation, orientation_tiff
from images_server.formats.header import SourceInfo, displayed, require_size, uint_le

_VP8_START_CODE = b"\x9d\x01\x2a"
_VP8L_SIGNATURE = 0x2F
_ALPHA_FLAG, _ANIMATION_FLAG = 0x10, 0x02
_EXIF_FLAG, _XMP_FLAG = 0x08, 0x04
_KEPT = frozenset({b"VP8X", b"VP8 ", b"VP8L", b"ALPH", b"ANIM", b"ANMF", b"ICCP"})
_MAX_CHUNKS = 100_000


def matches(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def _chunk_size(data: bytes, pos: int) -> int:
    """The size field of the chunk at `pos` (its payload, without the padding byte)."""
    return uint_le(data, pos + 4, 4, "WebP chunk header")


def _padded(size: int) -> int:
    return size + (size & 1)


# --- Sniffing ------------------------------------------------------------------------------


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
    frames, orientation = _chunks(data, 20 + _padded(size))
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
        size = _chunk_size(data, pos)
        if kind == b"ANMF":
            frames += 1
        elif kind == b"EXIF":
            orientation = exif_orientation(data[pos + 8 : pos + 8 + size])
        pos += 8 + _padded(size)
    raise UndecodableImage("WebP has too many chunks to inspect")


# --- Stripping -----------------------------------------------------------------------------


def strip(data: bytes, orientation: int) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise UndecodableImage("not a WebP RIFF file")
    end = min(len(data), 8 + uint_le(data, 4, 4, "WebP RIFF header"))
    if data[12:16] != b"VP8X":
        return data[:end]
    chunks = _kept_chunks(data, end)
    if not chunks or len(chunks[0]) < 18:  # header (8) and flags, reserved, canvas (10)
        raise UndecodableImage("WebP VP8X chunk is too short")
    flags = chunks[0][8] & ~(_EXIF_FLAG | _XMP_FLAG)
    if orientation != 1:
        chunks.append(_chunk(b"EXIF", orientation_tiff(orientation)))
        flags |= _EXIF_FLAG
    chunks[0] = chunks[0][:8] + bytes([flags]) + chunks[0][9:]
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + len(body).to_bytes(4, "little") + body


def _kept_chunks(data: bytes, end: int) -> list[bytes]:
    """The chunks of `data[12:end]` to keep, each with its header and padding."""
    chunks: list[bytes] = []
    pos = 12
    for _ in range(_MAX_CHUNKS):
        if pos + 8 > end:
            return chunks
        size = _chunk_size(data, pos)
        chunk_end = pos + 8 + _padded(size)
        if pos + 8 + size > end:
            raise UndecodableImage("WebP chunk is cut off")
        if data[pos : pos + 4] in _KEPT:
            chunks.append(data[pos : min(chunk_end, end)].ljust(chunk_end - pos, b"\0"))
        pos = chunk_end
    raise UndecodableImage("WebP has too many chunks")


def _chunk(kind: bytes, body: bytes) -> bytes:
    return kind + len(body).to_bytes(4, "little") + body.ljust(_padded(len(body)), b"\0")
