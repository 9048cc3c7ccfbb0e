"""PNG (and APNG): the chunks, read by the sniffer (IHDR, then tRNS, acTL and eXIf before the
image data) and rewritten by the stripper.

Every chunk's CRC is checked (zlib's crc32 runs at gigabytes a second): libvips forgives a
bad CRC on an ancillary chunk, ImageMagick refuses the file, and a corrupt file must be a 422
whatever the engine. A file cut off is judged by what it lost, as browsers do: a cut in
image data (IDAT, or an APNG's fcTL/fdAT) is a 422, while a file that only lost its end
(IEND, an ancillary chunk after the image data, or a chunk header too short to name) is
whole as an image: `ended` gives decoders (ImageMagick refuses a PNG without IEND) and
`privacy` serves it ended with a proper IEND. Compressed metadata (iCCP, zTXt, iTXt,
anywhere in the file) is inflated here with a bound: a 300 KB file whose text chunk
inflates to 256 MB costs a decoder that much memory and seconds of time (measured with
ImageMagick), so more than `MAX_METADATA_INFLATED` bytes of it is refused (413) before any
decoder runs.

Stripping keeps the chunks that make the pixels and drops text, time and Exif. Unknown
ancillary chunks (lowercase first letter) go too: a decoder may ignore them, so they can only
be metadata. Unknown critical chunks stay, as a decoder must understand them. A file that
lost its end (what `parse` accepts) is served ended with a proper IEND; one cut in its image
data is not an image `parse` lets in, and raises.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from images_server.errors import PayloadTooLarge, UndecodableImage
from images_server.formats.exif import exif_orientation, orientation_tiff
from images_server.formats.header import SourceInfo, displayed, require_size, uint_be

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES = frozenset({0, 2, 3, 4, 6})
_ALPHA_COLOUR_TYPES = frozenset({4, 6})
_MAX_DIMENSION = 2**31 - 1
_MAX_CHUNKS = 10_000
_MAX_METADATA_WALK = 200_000  # chunks; IDAT may come in many small pieces
MAX_METADATA_INFLATED = 4 * 1024 * 1024  # bytes; ICC profiles are kilobytes, text less
IMAGE_DATA = frozenset({b"IDAT", b"fcTL", b"fdAT"})  # a cut in these loses pixels
IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # the whole chunk: empty, with its CRC
_KEPT = frozenset(
    {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT",
     b"pHYs", b"bKGD", b"hIST", b"sPLT", b"acTL", b"fcTL", b"fdAT", b"cICP"}
)  # fmt: skip


@dataclass
class _Ancillary:
    transparency: bool = False
    frames: int = 1
    orientation: int = 1


def matches(head: bytes) -> bool:
    return head.startswith(_SIGNATURE)


# --- Sniffing ------------------------------------------------------------------------------


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
    _check_chunks(data, 8)
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


def _compressed_payload(kind: bytes, body: bytes) -> bytes:
    """The zlib stream of an iCCP, zTXt or iTXt chunk (empty when it carries none)."""
    keyword_end = body.find(b"\0")
    if keyword_end < 0:
        return b""
    if kind in (b"iCCP", b"zTXt"):
        return body[keyword_end + 2 :]  # keyword, NUL, compression method
    if body[keyword_end + 1 : keyword_end + 2] != b"\1":  # iTXt: compressed or not
        return b""
    language_end = body.find(b"\0", keyword_end + 3)
    translated_end = body.find(b"\0", language_end + 1) if language_end >= 0 else -1
    return body[translated_end + 1 :] if translated_end >= 0 else b""


def _inflated_size(stream: bytes, budget: int) -> int:
    """How many bytes `stream` inflates to, counting no further than `budget` + 1."""
    try:
        return len(zlib.decompressobj().decompress(stream, budget + 1))
    except zlib.error:
        return 0  # a corrupt chunk is the decoder's business, and costs it nothing


def _check_chunks(data: bytes, pos: int) -> None:
    """Every chunk up to IEND: intact (CRC), and its compressed metadata within the bound."""
    total = 0
    for _ in range(_MAX_METADATA_WALK):
        if pos + 8 > len(data):
            return  # ends, or ends in a chunk header too short to name: the decoder judges
        length = uint_be(data, pos, 4, "PNG chunk")
        kind = data[pos + 4 : pos + 8]
        end = pos + 8 + length
        if end + 4 > len(data) and kind in IMAGE_DATA:
            raise UndecodableImage(f"the PNG is cut off in its {kind.decode('latin-1')} chunk")
        if end + 4 <= len(data) and zlib.crc32(data[pos + 4 : end]) != uint_be(
            data, end, 4, "PNG chunk CRC"
        ):
            raise UndecodableImage(f"the PNG's {kind.decode('latin-1')} chunk is corrupt (bad CRC)")
        if kind == b"IEND":
            return
        if kind in (b"iCCP", b"zTXt", b"iTXt"):
            stream = _compressed_payload(kind, data[pos + 8 : pos + 8 + length])
            total += _inflated_size(stream, MAX_METADATA_INFLATED - total)
            if total > MAX_METADATA_INFLATED:
                raise PayloadTooLarge(
                    f"the PNG's compressed metadata ({kind.decode()}) inflates to more than "
                    f"{MAX_METADATA_INFLATED} bytes"
                )
        pos += 12 + length


def ended(data: bytes) -> bytes:
    """`data` up to its IEND, or its last whole chunk followed by an IEND if it has none."""
    if data.endswith(IEND):
        return data
    pos = len(_SIGNATURE)
    for _ in range(_MAX_METADATA_WALK):
        if pos + 12 > len(data):
            break
        end = pos + 12 + uint_be(data, pos, 4, "PNG chunk")
        if end > len(data):
            break
        if data[pos + 4 : pos + 8] == b"IEND":
            return data  # what follows IEND is no decoder's business
        pos = end
    else:
        return data  # too many chunks to walk: as it is, for the decoder to judge
    return data[:pos] + IEND


# --- Stripping -----------------------------------------------------------------------------


def strip(data: bytes, orientation: int) -> bytes:
    if not data.startswith(_SIGNATURE):
        raise UndecodableImage("PNG does not start with its signature")
    out = [_SIGNATURE]
    pending = _chunk(b"eXIf", orientation_tiff(orientation)) if orientation != 1 else b""
    pos = len(_SIGNATURE)
    for _ in range(_MAX_METADATA_WALK):
        if pos + 8 > len(data):
            return b"".join([*out, IEND])  # the file lost its end, not its pixels
        end = pos + 12 + uint_be(data, pos, 4, "PNG chunk")
        kind = data[pos + 4 : pos + 8]
        if end > len(data):
            if kind in IMAGE_DATA:
                raise UndecodableImage(f"PNG is cut off in its {kind.decode('latin-1')} chunk")
            return b"".join([*out, IEND])
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
