"""AVIF: unchanged when it carries no Exif or XMP item, else None (a re-encode strips it).

Removing an item means moving the data its `iloc` offsets point to, which is out of scope.
An Exif item has the type 'Exif'; XMP is a 'mime' item of content type
application/rdf+xml. Both are listed in meta > iinf, which is all this reads.
"""

from __future__ import annotations

from images_server.engines.sniff._avif import _Box, _Boxes
from images_server.engines.sniff._common import uint_be
from images_server.errors import UndecodableImage

_XMP_TYPE = b"application/rdf+xml"


def strip(data: bytes, _orientation: int) -> bytes | None:
    boxes = _Boxes(data)
    meta = next(
        (b for b in boxes.children(0, len(data), top_level=True) if b.kind == b"meta"), None
    )
    if meta is None:
        raise UndecodableImage("AVIF has no complete meta box")
    for box in boxes.children(meta.start + 4, meta.end):  # meta is a full box
        if box.kind == b"iinf" and _lists_metadata(boxes, box):
            return None
    return data


def _lists_metadata(boxes: _Boxes, iinf: _Box) -> bool:
    """Whether the item info box lists an Exif or XMP item."""
    version = uint_be(boxes.data, iinf.start, 1, "AVIF iinf")
    first = iinf.start + (6 if version == 0 else 8)  # version, flags, entry count (2 or 4)
    for infe in boxes.children(min(first, iinf.end), iinf.end):
        if infe.kind == b"infe" and _is_metadata(boxes.payload(infe)):
            return True
    return False


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
