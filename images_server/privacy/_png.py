"""PNG (and APNG): keep the chunks that make the pixels, drop text, time and Exif.

Unknown ancillary chunks (lowercase first letter) go too: a decoder may ignore them, so they
can only be metadata. Unknown critical chunks stay, as a decoder must understand them.
"""

from __future__ import annotations

import zlib

from images_server.engines.sniff._common import uint_be
from images_server.errors import UndecodableImage
from images_server.privacy._tiff import orientation_tiff

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_KEPT = frozenset(
    {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT",
     b"pHYs", b"bKGD", b"hIST", b"sPLT", b"acTL", b"fcTL", b"fdAT", b"cICP"}
)  # fmt: skip
_MAX_CHUNKS = 200_000  # as the sniffer's walk: IDAT may come in many small pieces


def strip(data: bytes, orientation: int) -> bytes:
    if not data.startswith(_SIGNATURE):
        raise UndecodableImage("PNG does not start with its signature")
    out = [_SIGNATURE]
    pending = _chunk(b"eXIf", orientation_tiff(orientation)) if orientation != 1 else b""
    pos = len(_SIGNATURE)
    for _ in range(_MAX_CHUNKS):
        if pos >= len(data):
            return b"".join(out)  # no IEND: the decoder accepted that
        end = pos + 12 + uint_be(data, pos, 4, "PNG chunk")
        if end > len(data):
            raise UndecodableImage("PNG chunk is cut off")
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            out.append(pending)
            pending = b""
        if _kept(kind):
            out.append(data[pos:end])
        if kind == b"IEND":
            return b"".join(out)  # what follows IEND is no part of the image
        pos = end
    raise UndecodableImage("PNG has too many chunks")


def _kept(kind: bytes) -> bool:
    return kind in _KEPT or kind[:1].isupper()


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body)
    return len(body).to_bytes(4, "big") + kind + body + crc.to_bytes(4, "big")
