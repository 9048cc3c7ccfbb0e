"""WebP: keep the image chunks, ICC profile and animation; drop EXIF, XMP and unknown chunks.

The VP8X flags are brought in line (no EXIF, no XMP), and the RIFF size recomputed. A simple
WebP (VP8 or VP8L first, no VP8X) has nowhere to keep metadata: it comes back as is, minus
anything past the RIFF size.
"""

from __future__ import annotations

from images_server.engines.sniff._common import uint_le
from images_server.errors import UndecodableImage
from images_server.privacy._tiff import orientation_tiff

_KEPT = frozenset({b"VP8X", b"VP8 ", b"VP8L", b"ALPH", b"ANIM", b"ANMF", b"ICCP"})
_EXIF_FLAG, _XMP_FLAG = 0x08, 0x04
_MAX_CHUNKS = 100_000


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
        size = uint_le(data, pos + 4, 4, "WebP chunk header")
        chunk_end = pos + 8 + size + (size & 1)
        if pos + 8 + size > end:
            raise UndecodableImage("WebP chunk is cut off")
        if data[pos : pos + 4] in _KEPT:
            chunks.append(data[pos : min(chunk_end, end)].ljust(chunk_end - pos, b"\0"))
        pos = chunk_end
    raise UndecodableImage("WebP has too many chunks")


def _chunk(kind: bytes, body: bytes) -> bytes:
    return kind + len(body).to_bytes(4, "little") + body + b"\0" * (len(body) & 1)
