"""AVIF: the ISOBMFF boxes meta > pitm, iprp > ipco (ispe, irot, auxC) and ipma.

The primary item's properties come from its ipma associations. When the file has no usable
pitm/ipma pair, the largest ispe (and the first irot) in ipco stands in for the primary's:
a grid's canvas is its largest extent, so the estimate errs large, the safe side for a
pixel limit. Alpha is any auxC of an alpha type in ipco, without following the auxl
reference to the primary item. Image sequence tracks (moov) are not read: a file that is
also `avif`-compatible must carry a primary item, whose size is reported; a track-only file
has no meta box and is refused as undecodable.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from images_server.engines.sniff._common import SourceInfo, require_size, uint_be
from images_server.errors import UndecodableImage

_BRANDS = (b"avif", b"avis")
_MAX_FTYP = 1024
_MAX_BOXES = 10_000
_MAX_ITEMS = 65_536
_ALPHA_TYPES = (b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha", b"urn:mpeg:hevc:2015:auxid:1")


def matches(head: bytes) -> bool:
    if head[4:8] != b"ftyp":
        return False
    size = int.from_bytes(head[:4], "big")
    if size < 16:
        return False
    end = min(size, len(head), _MAX_FTYP)
    brands = [head[8:12], *(head[pos : pos + 4] for pos in range(16, end - 3, 4))]
    return any(brand in _BRANDS for brand in brands)


@dataclass(frozen=True)
class _Box:
    kind: bytes
    start: int  # first byte after the box header
    end: int


@dataclass
class _Boxes:
    """Walks boxes of `data` with one budget for the whole file, so no input walks long."""

    data: bytes
    budget: int = _MAX_BOXES

    def children(self, start: int, end: int, *, top_level: bool = False) -> Iterator[_Box]:
        """The boxes in `data[start:end]`; at top level, a cut-off box ends the walk."""
        pos = start
        while pos + 8 <= end:
            self.budget -= 1
            if self.budget < 0:
                raise UndecodableImage("AVIF has too many boxes to inspect")
            size, kind, header = (
                uint_be(self.data, pos, 4, "AVIF box"),
                self.data[pos + 4 : pos + 8],
                8,
            )
            if size == 1:
                size, header = uint_be(self.data, pos + 8, 8, "AVIF box"), 16
            elif size == 0:
                size = end - pos
            if size < header or pos + size > end:
                if top_level:
                    return
                raise UndecodableImage(f"AVIF box {kind!r} is cut off or corrupt")
            yield _Box(kind, pos + header, pos + size)
            pos += size

    def payload(self, box: _Box) -> bytes:
        return self.data[box.start : box.end]


@dataclass
class _Meta:
    primary: int | None = None
    properties: list[_Box] = field(default_factory=list)
    primary_indices: list[int] = field(default_factory=list)  # 1-based into `properties`


def parse(data: bytes) -> SourceInfo:
    boxes = _Boxes(data)
    meta = next(
        (b for b in boxes.children(0, len(data), top_level=True) if b.kind == b"meta"), None
    )
    if meta is None:
        raise UndecodableImage("AVIF has no complete meta box")
    found = _read_meta(boxes, meta)
    chosen = [
        found.properties[i - 1] for i in found.primary_indices if 0 < i <= len(found.properties)
    ]
    ispe = _first(chosen, b"ispe")
    irot = _first(chosen, b"irot")
    if ispe is None:
        ispe, irot = _largest_extent(boxes, found.properties), _first(found.properties, b"irot")
    if ispe is None:
        raise UndecodableImage("AVIF has no image extent (ispe)")
    width, height = _extent(boxes.payload(ispe))
    require_size(width, height, "AVIF")
    if irot is not None and uint_be(boxes.payload(irot), 0, 1, "AVIF irot") & 1:
        width, height = height, width  # a quarter turn either way
    has_alpha = any(_is_alpha(boxes.payload(p)) for p in found.properties if p.kind == b"auxC")
    return SourceInfo("avif", width, height, has_alpha=has_alpha)


def _read_meta(boxes: _Boxes, meta: _Box) -> _Meta:
    found = _Meta()
    children = list(boxes.children(meta.start + 4, meta.end))  # meta is a full box
    for box in children:
        if box.kind == b"pitm":
            version = uint_be(boxes.payload(box), 0, 1, "AVIF pitm")
            found.primary = uint_be(boxes.payload(box), 4, 2 if version == 0 else 4, "AVIF pitm")
    for box in children:
        if box.kind != b"iprp":
            continue
        for child in boxes.children(box.start, box.end):
            if child.kind == b"ipco":
                found.properties = list(boxes.children(child.start, child.end))
            elif child.kind == b"ipma" and found.primary is not None:
                found.primary_indices += _associations(boxes.payload(child), found.primary)
    return found


def _associations(ipma: bytes, item: int) -> list[int]:
    """The property indices `ipma` associates with `item` (essential bit dropped)."""
    version, flags = uint_be(ipma, 0, 1, "AVIF ipma"), uint_be(ipma, 1, 3, "AVIF ipma")
    id_size, index_size = (2 if version == 0 else 4), (2 if flags & 1 else 1)
    mask = (1 << (8 * index_size - 1)) - 1
    pos = 8
    for _ in range(min(uint_be(ipma, 4, 4, "AVIF ipma"), _MAX_ITEMS)):
        entry = uint_be(ipma, pos, id_size, "AVIF ipma")
        count = uint_be(ipma, pos + id_size, 1, "AVIF ipma")
        pos += id_size + 1
        if entry == item:
            offsets = range(pos, pos + count * index_size, index_size)
            return [uint_be(ipma, at, index_size, "AVIF ipma") & mask for at in offsets]
        pos += count * index_size
    return []


def _first(properties: list[_Box], kind: bytes) -> _Box | None:
    return next((p for p in properties if p.kind == kind), None)


def _extent(ispe: bytes) -> tuple[int, int]:
    # full box: version and flags (4), then width (4) and height (4)
    return uint_be(ispe, 4, 4, "AVIF ispe"), uint_be(ispe, 8, 4, "AVIF ispe")


def _largest_extent(boxes: _Boxes, properties: list[_Box]) -> _Box | None:
    extents = [p for p in properties if p.kind == b"ispe"]
    if not extents:
        return None
    return max(extents, key=lambda p: _pixels(_extent(boxes.payload(p))))


def _pixels(size: tuple[int, int]) -> int:
    return size[0] * size[1]


def _is_alpha(aux_c: bytes) -> bool:
    # full box: version and flags (4), then a NUL-terminated URN
    return aux_c[4:].split(b"\x00", 1)[0] in _ALPHA_TYPES
