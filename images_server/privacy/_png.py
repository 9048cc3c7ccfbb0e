"""PNG (and APNG): keep the chunks that make the pixels, drop text, time and Exif.

Unknown ancillary chunks (lowercase first letter) go too: a decoder may ignore them, so they
can only be metadata. Unknown critical chunks stay, as a decoder must understand them.
A file that lost its end (no IEND, a cut-off IEND or ancillary chunk after the image data:
what `sniff` accepts) is served ended with a proper IEND; one cut in its image data is not
an image `sniff` lets in, and raises.
"""

from __future__ import annotations

import zlib

from images_server.engines.sniff._common import uint_be
from images_server.engines.sniff._png import IMAGE_DATA
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
        if pos + 8 > len(data):
            return b"".join([*out, _IEND])  # the file lost its end, not its pixels
        end = pos + 12 + uint_be(data, pos, 4, "PNG chunk")
        kind = data[pos + 4 : pos + 8]
        if end > len(data):
            if kind in IMAGE_DATA:
                raise UndecodableImage(f"PNG is cut off in its {kind.decode('latin-1')} chunk")
            return b"".join([*out, _IEND])
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


_IEND = _chunk(b"IEND", b"")
