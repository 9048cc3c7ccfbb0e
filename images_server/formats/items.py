"""HEIF items, the still-image layer AVIF and HEIC share: meta > pitm, iinf, iref,
iprp > ipco (ispe, clap, irot, auxC), ipma.

The primary item's size is its `ispe`, then its transformative properties in the order its
ipma entry lists them, as libheif applies them: `clap` crops to the clean aperture (with
libheif's rounding; an aperture reaching outside the image is refused, as libvips refuses
to decode it), `irot` by an odd number of quarter turns swaps the sides, `imir` mirrors
without changing them. What the decoder holds before cropping (the `ispe`, or for a grid
every tile's `ispe` together) is the canvas, for the pixel limits.

When the file has no usable pitm/ipma pair, the largest ispe (and the first irot) in ipco
stands in for the primary's: a grid's canvas is its largest extent, so the estimate errs
large, the safe side for a pixel limit. Every count read from the file is capped, and every
box walked comes out of the one `Boxes` budget.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction

from images_server.errors import UndecodableImage, UnsupportedFormat
from images_server.formats.boxes import Box, Boxes
from images_server.formats.header import require_size, uint_be

MAX_ITEMS = 65_536
ALPHA_TYPES = (b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha", b"urn:mpeg:hevc:2015:auxid:1")
_HIDDEN = 1  # infe flag: not meant to be shown on its own


@dataclass
class Meta:
    """What the meta box says about the items, as far as sizes and kinds go."""

    what: str
    primary: int | None = None
    properties: list[Box] = field(default_factory=list)
    ipma: list[bytes] = field(default_factory=list)
    item_types: dict[int, bytes] = field(default_factory=dict)
    hidden: set[int] = field(default_factory=set)
    id_size: int = 2  # of the item IDs in iref
    references: list[tuple[bytes, bytes]] = field(default_factory=list)  # type, payload

    def properties_of(self, item: int) -> list[Box]:
        """The properties `item` is associated with, in ipma order."""
        indices = [i for ipma in self.ipma for i in _associations(ipma, item, self.what)]
        return [self.properties[i - 1] for i in indices if 0 < i <= len(self.properties)]

    def links(self, kind: bytes) -> list[tuple[int, list[int]]]:
        """Each reference of type `kind`: the item it is from, and the items it is to."""
        what, size = f"{self.what} iref", self.id_size
        found = []
        for ref, body in self.references:
            if ref == kind:
                count = min(uint_be(body, size, 2, what), MAX_ITEMS)
                targets = [uint_be(body, size + 2 + i * size, size, what) for i in range(count)]
                found.append((uint_be(body, 0, size, what), targets))
        return found

    def refers(self, item: int, kind: bytes) -> list[int]:
        """The items `item` refers to by references of type `kind` (a grid's `dimg` tiles).

        References are read when asked for, so that a broken one of another type is no
        reason to refuse the file."""
        return [to for source, targets in self.links(kind) if source == item for to in targets]

    def referring(self, item: int, kind: bytes) -> list[int]:
        """The items that refer to `item` by a reference of type `kind` (its `auxl` alpha)."""
        return [source for source, targets in self.links(kind) if item in targets]


@dataclass(frozen=True)
class Primary:
    """The primary image's displayed size, and the pixels its decoder holds when more."""

    width: int
    height: int
    canvas: int  # pixels held before cropping (0 when not more than width x height)


def top_level(boxes: Boxes, kinds: tuple[bytes, ...]) -> list[Box]:
    """The complete top-level boxes of the kinds asked for."""
    return [b for b in boxes.children(0, len(boxes.data), top_level=True) if b.kind in kinds]


def still_meta(boxes: Boxes) -> tuple[list[Box], Box, Meta]:
    """The top-level `meta` and `moov` boxes, the `meta` box and what it says: a file with an
    image sequence only is `UnsupportedFormat`, one without a whole `meta` `UndecodableImage`."""
    top = top_level(boxes, (b"meta", b"moov"))
    meta = first(top, b"meta")
    if meta is None:
        if first(top, b"moov") is not None:
            raise UnsupportedFormat(
                f"an {boxes.what} image sequence without a still image is not supported"
            )
        raise UndecodableImage(f"{boxes.what} has no complete meta box")
    return top, meta, read_meta(boxes, meta)


def read_meta(boxes: Boxes, meta: Box) -> Meta:
    found = Meta(boxes.what)
    children = list(boxes.children(meta.start + 4, meta.end))  # meta is a full box
    for box in children:
        if box.kind == b"pitm":
            version = uint_be(boxes.payload(box), 0, 1, f"{boxes.what} pitm")
            found.primary = uint_be(
                boxes.payload(box), 4, 2 if version == 0 else 4, f"{boxes.what} pitm"
            )
    for box in children:
        if box.kind == b"iprp":
            for child in boxes.children(box.start, box.end):
                if child.kind == b"ipco":
                    found.properties = list(boxes.children(child.start, child.end))
                elif child.kind == b"ipma":
                    found.ipma.append(boxes.payload(child))
        elif box.kind == b"iinf":
            _read_items(boxes, box, found)
        elif box.kind == b"iref":
            found.id_size = 2 if box.end == box.start or boxes.data[box.start] == 0 else 4
            refs = boxes.children(min(box.start + 4, box.end), box.end)
            found.references = [(ref.kind, boxes.payload(ref)) for ref in refs]
    return found


def primary_size(boxes: Boxes, found: Meta) -> Primary:
    """The primary item's displayed size and canvas (see the module's docstring)."""
    chosen = found.properties_of(found.primary) if found.primary is not None else []
    ispe = first(chosen, b"ispe")
    if ispe is None:
        return _estimate(boxes, found)
    width, height = extent(boxes, ispe)
    require_size(width, height, boxes.what)
    canvas = max(width * height, tile_pixels(boxes, found, found.primary))
    for prop in chosen:
        if prop.kind == b"clap":
            width, height = _clean_aperture(boxes, boxes.payload(prop), width, height)
        elif prop.kind == b"irot" and _quarter_turns(boxes, prop) & 1:
            width, height = height, width  # a quarter turn either way
    return Primary(width, height, canvas if canvas > width * height else 0)


def has_alpha(boxes: Boxes, found: Meta) -> bool:
    """Whether any auxiliary item is an alpha plane (not following `auxl` to the primary)."""
    return any(is_alpha(boxes.payload(p)) for p in found.properties if p.kind == b"auxC")


def is_alpha(aux_c: bytes) -> bool:
    # full box: version and flags (4), then a NUL-terminated URN
    return aux_c[4:].split(b"\x00", 1)[0] in ALPHA_TYPES


def tile_pixels(boxes: Boxes, found: Meta, item: int | None) -> int:
    """Pixels of all the tiles a grid item is made of (0 for any other item)."""
    if item is None or found.item_types.get(item) != b"grid":
        return 0
    total = 0
    for tile in found.refers(item, b"dimg")[:MAX_ITEMS]:
        ispe = first(found.properties_of(tile), b"ispe")
        if ispe is None:
            raise UndecodableImage(f"{boxes.what} grid tile {tile} has no image extent (ispe)")
        total += _pixels(extent(boxes, ispe))
    return total


def item_pixels(boxes: Boxes, found: Meta, item: int) -> int:
    """What decoding `item` holds: its `ispe`, or its tiles' when more (0 without an ispe)."""
    ispe = first(found.properties_of(item), b"ispe")
    own = _pixels(extent(boxes, ispe)) if ispe is not None else 0
    return max(own, tile_pixels(boxes, found, item))


def _estimate(boxes: Boxes, found: Meta) -> Primary:
    """The size from the largest ispe and the first irot, for want of the primary's."""
    ispe = _largest_extent(boxes, found.properties)
    if ispe is None:
        raise UndecodableImage(f"{boxes.what} has no image extent (ispe)")
    width, height = extent(boxes, ispe)
    require_size(width, height, boxes.what)
    irot = first(found.properties, b"irot")
    if irot is not None and _quarter_turns(boxes, irot) & 1:
        width, height = height, width
    return Primary(width, height, 0)


def _quarter_turns(boxes: Boxes, irot: Box) -> int:
    return uint_be(boxes.payload(irot), 0, 1, f"{boxes.what} irot")


def _libheif_round(value: Fraction) -> int:
    """libheif's Fraction::round: (n + d/2) / d in C integer division (towards zero)."""
    return int(value + Fraction(value.denominator // 2, value.denominator))


def _clean_aperture(boxes: Boxes, clap: bytes, width: int, height: int) -> tuple[int, int]:
    """The size after the crop `clap` describes, refused if it reaches outside the image.

    libheif crops from left = floor(horizOff + (width - 1)/2 - (apertureWidth - 1)/2) to
    right = round(apertureWidth - 1 + left), top and bottom alike but rounded; libvips'
    header says round(apertureWidth) x round(apertureHeight), and refuses to decode a crop
    that needs clamping to the image.
    """
    what = boxes.what
    numbers = [uint_be(clap, at, 4, f"{what} clap") for at in range(0, 32, 4)]
    signed = [n - (1 << 32) if i in (4, 6) and n >= 1 << 31 else n for i, n in enumerate(numbers)]
    if any(d == 0 for d in signed[1::2]):
        raise UndecodableImage(f"{what} clean aperture (clap) has a zero denominator")
    aperture_w, aperture_h, offset_x, offset_y = (
        Fraction(n, d) for n, d in zip(signed[::2], signed[1::2], strict=True)
    )
    left = int(offset_x + Fraction(width - 1, 2) - (aperture_w - 1) / 2)
    right = _libheif_round(aperture_w - 1 + left)
    top = _libheif_round(offset_y + Fraction(height - 1, 2) - (aperture_h - 1) / 2)
    bottom = _libheif_round(aperture_h - 1 + top)
    if left < 0 or top < 0 or right >= width or bottom >= height or left > right or top > bottom:
        raise UndecodableImage(
            f"{what} clean aperture (clap) {float(aperture_w):g}x{float(aperture_h):g} reaches "
            f"outside the {width}x{height} image"
        )
    return right - left + 1, bottom - top + 1


def infe_entries(boxes: Boxes, iinf: Box) -> Iterator[bytes]:
    """The payload of each item info entry (`infe`) the item info box (`iinf`) lists."""
    version = uint_be(boxes.data, iinf.start, 1, f"{boxes.what} iinf")
    start = iinf.start + (6 if version == 0 else 8)  # version, flags, entry count (2 or 4)
    for infe in boxes.children(min(start, iinf.end), iinf.end):
        if infe.kind == b"infe":
            yield boxes.payload(infe)


def _read_items(boxes: Boxes, iinf: Box, found: Meta) -> None:
    """Item ID to item type, and the hidden items, for the infe entries of version 2 and 3."""
    what = f"{boxes.what} infe"
    for body in infe_entries(boxes, iinf):
        if uint_be(body, 0, 1, what) < 2:
            continue
        id_size = 2 if body[0] == 2 else 4
        item = uint_be(body, 4, id_size, what)
        found.item_types[item] = body[4 + id_size + 2 : 4 + id_size + 6]  # after protection
        if uint_be(body, 1, 3, what) & _HIDDEN:
            found.hidden.add(item)


def _associations(ipma: bytes, item: int, what: str) -> list[int]:
    """The property indices `ipma` associates with `item` (essential bit dropped)."""
    what = f"{what} ipma"
    version, flags = uint_be(ipma, 0, 1, what), uint_be(ipma, 1, 3, what)
    id_size, index_size = (2 if version == 0 else 4), (2 if flags & 1 else 1)
    mask = (1 << (8 * index_size - 1)) - 1
    pos = 8
    for _ in range(min(uint_be(ipma, 4, 4, what), MAX_ITEMS)):
        entry = uint_be(ipma, pos, id_size, what)
        count = uint_be(ipma, pos + id_size, 1, what)
        pos += id_size + 1
        if entry == item:
            offsets = range(pos, pos + count * index_size, index_size)
            return [uint_be(ipma, at, index_size, what) & mask for at in offsets]
        pos += count * index_size
    return []


def first(found: list[Box], kind: bytes) -> Box | None:
    return next((p for p in found if p.kind == kind), None)


def extent(boxes: Boxes, ispe: Box) -> tuple[int, int]:
    # full box: version and flags (4), then width (4) and height (4)
    body, what = boxes.payload(ispe), f"{boxes.what} ispe"
    return uint_be(body, 4, 4, what), uint_be(body, 8, 4, what)


def _largest_extent(boxes: Boxes, properties: list[Box]) -> Box | None:
    extents = [p for p in properties if p.kind == b"ispe"]
    if not extents:
        return None
    return max(extents, key=lambda p: _pixels(extent(boxes, p)))


def _pixels(size: tuple[int, int]) -> int:
    return size[0] * size[1]


def data_ends(boxes: Boxes, meta: Box) -> dict[int, int]:
    """Where each item's data ends in the file, by its `iloc` extents (file offsets only:
    `idat` and item-referenced data are inside boxes already walked). An end past the file
    tells a file cut off in its image data from its header alone."""
    iloc = first(list(boxes.children(meta.start + 4, meta.end)), b"iloc")
    if iloc is None:
        return {}
    body, what = boxes.payload(iloc), f"{boxes.what} iloc"
    version = uint_be(body, 0, 1, what)
    sizes = uint_be(body, 4, 2, what)
    offset_size, length_size = sizes >> 12, (sizes >> 8) & 15
    base_size, index_size = (sizes >> 4) & 15, (sizes & 15 if version in (1, 2) else 0)
    id_size = 4 if version == 2 else 2
    count = min(uint_be(body, 6, id_size, what), MAX_ITEMS)
    pos, ends = 6 + id_size, {}
    for _ in range(count):
        item = uint_be(body, pos, id_size, what)
        pos += id_size
        method = uint_be(body, pos, 2, what) & 15 if version in (1, 2) else 0
        pos += 2 if version in (1, 2) else 0
        base = uint_be(body, pos + 2, base_size, what) if base_size else 0
        pos += 2 + base_size  # data reference index, base offset
        extents = uint_be(body, pos, 2, what)
        pos += 2
        end = 0
        for _ in range(extents):
            pos += index_size
            offset = uint_be(body, pos, offset_size, what) if offset_size else 0
            length = uint_be(body, pos + offset_size, length_size, what) if length_size else 0
            pos += offset_size + length_size
            end = max(end, base + offset + length)
        if method == 0:
            ends[item] = end
    return ends
