"""AVIF: the primary item's size, canvas and alpha, read by `items` (the HEIF item layer
AVIF shares with HEIC): its `ispe` after `clap` and `irot`, and for a grid its tiles' pixels
as `canvas_pixels`, for the pixel limits. Alpha is any auxC of an alpha type in ipco, without
following the auxl reference to the primary item. Image sequence tracks (moov) are not
read: an animated AVIF (`avis`) is its primary item, the still first frame that avifenc
writes beside the track, and `for_decoders` hands it to libvips and ImageMagick under the
`avif` brand, as neither opens a file whose major brand is `avis`. A sequence without a
primary item (a moov and no meta box) is refused as unsupported.

Stripping: an AVIF is unchanged when it carries no Exif or XMP item, else `strip` says None
(a re-encode strips it): removing an item means moving the data its `iloc` offsets point to,
which is out of scope. An Exif item has the type 'Exif'; XMP is a 'mime' item of content
type application/rdf+xml. Both are listed in meta > iinf (`items.infe_entries`, which the
sniffer reads for the item types too).
"""

from __future__ import annotations

from images_server.errors import UndecodableImage
from images_server.formats import items
from images_server.formats.boxes import Box, Boxes
from images_server.formats.header import SourceInfo, uint_be

_BRANDS = (b"avif", b"avis")
_SEQUENCE = b"avis"
_MAX_FTYP = 1024
_XMP_TYPE = b"application/rdf+xml"


def for_decoders(data: bytes) -> bytes:
    """`data` as libvips and ImageMagick open it: an `avis` major brand reads `avif`."""
    if data[4:8] == b"ftyp" and data[8:12] == _SEQUENCE:
        return data[:8] + b"avif" + data[12:]
    return data


def matches(head: bytes) -> bool:
    if head[4:8] != b"ftyp":
        return False
    size = int.from_bytes(head[:4], "big")
    if size < 16:
        return False
    end = min(size, len(head), _MAX_FTYP)
    brands = [head[8:12], *(head[pos : pos + 4] for pos in range(16, end - 3, 4))]
    return any(brand in _BRANDS for brand in brands)


# --- Sniffing ------------------------------------------------------------------------------


def parse(data: bytes) -> SourceInfo:
    boxes = Boxes(data, "AVIF")
    _, _, found = items.still_meta(boxes)
    primary = items.primary_size(boxes, found)
    return SourceInfo(
        "avif",
        primary.width,
        primary.height,
        has_alpha=items.has_alpha(boxes, found),
        canvas_pixels=primary.canvas,
    )


# --- Stripping -----------------------------------------------------------------------------


def strip(data: bytes, _orientation: int) -> bytes | None:
    boxes = Boxes(data, "AVIF")
    meta = next(
        (b for b in boxes.children(0, len(data), top_level=True) if b.kind == b"meta"), None
    )
    if meta is None:
        raise UndecodableImage("AVIF has no complete meta box")
    for box in boxes.children(meta.start + 4, meta.end):  # meta is a full box
        if box.kind == b"iinf" and _lists_metadata(boxes, box):
            return None
    return data


def _lists_metadata(boxes: Boxes, iinf: Box) -> bool:
    """Whether the item info box lists an Exif or XMP item."""
    return any(_is_metadata(infe) for infe in items.infe_entries(boxes, iinf))


def _is_metadata(infe: bytes) -> bool:
    version = uint_be(infe, 0, 1, "AVIF infe")
    if version < 2:  # item ID (2), protection index (2), name, content type
        return _strings(infe[8:], 2)[-1].startswith(_XMP_TYPE)
    id_size = 2 if version == 2 else 4
    item_type = infe[4 + id_size + 2 : 4 + id_size + 6]  # after item ID, protection index
    if item_type == b"Exif":
        return True
    if item_type != b"mime":
        return False
    return _strings(infe[4 + id_size + 6 :], 2)[-1].startswith(_XMP_TYPE)  # name, content type


def _strings(data: bytes, count: int) -> list[bytes]:
    """The first `count` NUL-terminated strings of `data` (missing ones empty)."""
    parts = data.split(b"\0", count)
    return (parts + [b""] * count)[:count]
