"""AVIF: the ISOBMFF boxes meta > pitm, iinf, iref, iprp > ipco (ispe, clap, irot, auxC), ipma.

The primary item's size is its `ispe`, then its transformative properties in the order its
ipma entry lists them, as libheif applies them: `clap` crops to the clean aperture (with
libheif's rounding; an aperture reaching outside the image is refused, as libvips refuses
to decode it), `irot` by an odd number of quarter turns swaps the sides, `imir` mirrors
without changing them. What the decoder holds before cropping (the `ispe`, or for a grid
every tile's `ispe` together) is `canvas_pixels`, for the pixel limits.

When the file has no usable pitm/ipma pair, the largest ispe (and the first irot) in ipco
stands in for the primary's: a grid's canvas is its largest extent, so the estimate errs
large, the safe side for a pixel limit. Alpha is any auxC of an alpha type in ipco, without
following the auxl reference to the primary item. Image sequence tracks (moov) are not
read: an animated AVIF (`avis`) is its primary item, the still first frame that avifenc
writes beside the track, and `for_decoders` hands it to libvips and ImageMagick under the
`avif` brand, as neither opens a file whose major brand is `avis`. A sequence without a
primary item (a moov and no meta box) is refused as unsupported.

Stripping: an AVIF is unchanged when it carries no Exif or XMP item, else `strip` says None
(a re-encode strips it): removing an item means moving the data its `iloc` offsets point to,
which is out of scope. An Exif item has the type 'Exif'; XMP is a 'mime' item of content
type application/rdf+xml. Both are listed in meta > iinf (`_infe_entries`, which the sniffer
reads for the item types too).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction

from images_server.errors import UndecodableImage, UnsupportedFormat
from images_server.formats.boxes import Box, Boxes
from images_server.formats.header import SourceInfo, require_size, uint_be

_BRANDS = (b"avif", b"avis")
_SEQUENCE = b"avis"
_MAX_FTYP = 1024
_MAX_ITEMS = 65_536
_ALPHA_TYPES = (b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha", b"urn:mpeg:hevc:2015:auxid:1")
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


@dataclass
class _Meta:
    primary: int | None = None
    properties: list[Box] = field(default_factory=list)
    ipma: list[bytes] = field(default_factory=list)
    item_types: dict[int, bytes] = field(default_factory=dict)
    tiles: list[int] = field(default_factory=list)  # the primary's dimg references

    def properties_of(self, item: int) -> list[Box]:
        """The properties `item` is associated with, in ipma order."""
        indices = [i for ipma in self.ipma for i in _associations(ipma, item)]
        return [self.properties[i - 1] for i in indices if 0 < i <= len(self.properties)]


# --- Sniffing ------------------------------------------------------------------------------


def parse(data: bytes) -> SourceInfo:
    boxes = Boxes(data)
    top = [b for b in boxes.children(0, len(data), top_level=True) if b.kind in (b"meta", b"moov")]
    meta = _first(top, b"meta")
    if meta is None:
        if _first(top, b"moov") is not None:
            raise UnsupportedFormat("an AVIF image sequence without a still image is not supported")
        raise UndecodableImage("AVIF has no complete meta box")
    found = _read_meta(boxes, meta)
    has_alpha = any(_is_alpha(boxes.payload(p)) for p in found.properties if p.kind == b"auxC")
    chosen = found.properties_of(found.primary) if found.primary is not None else []
    ispe = _first(chosen, b"ispe")
    if ispe is None:
        return _estimate(boxes, found, has_alpha)
    width, height = _extent(boxes.payload(ispe))
    require_size(width, height, "AVIF")
    canvas = max(width * height, _tile_pixels(boxes, found))
    for prop in chosen:
        if prop.kind == b"clap":
            width, height = _clean_aperture(boxes.payload(prop), width, height)
        elif prop.kind == b"irot" and uint_be(boxes.payload(prop), 0, 1, "AVIF irot") & 1:
            width, height = height, width  # a quarter turn either way
    canvas_pixels = canvas if canvas > width * height else 0
    return SourceInfo("avif", width, height, has_alpha=has_alpha, canvas_pixels=canvas_pixels)


def _estimate(boxes: Boxes, found: _Meta, has_alpha: bool) -> SourceInfo:
    """The size from the largest ispe and the first irot, for want of the primary's."""
    ispe = _largest_extent(boxes, found.properties)
    if ispe is None:
        raise UndecodableImage("AVIF has no image extent (ispe)")
    width, height = _extent(boxes.payload(ispe))
    require_size(width, height, "AVIF")
    irot = _first(found.properties, b"irot")
    if irot is not None and uint_be(boxes.payload(irot), 0, 1, "AVIF irot") & 1:
        width, height = height, width
    return SourceInfo("avif", width, height, has_alpha=has_alpha)


def _libheif_round(value: Fraction) -> int:
    """libheif's Fraction::round: (n + d/2) / d in C integer division (towards zero)."""
    return int(value + Fraction(value.denominator // 2, value.denominator))


def _clean_aperture(clap: bytes, width: int, height: int) -> tuple[int, int]:
    """The size after the crop `clap` describes, refused if it reaches outside the image.

    libheif crops from left = floor(horizOff + (width - 1)/2 - (apertureWidth - 1)/2) to
    right = round(apertureWidth - 1 + left), top and bottom alike but rounded; libvips'
    header says round(apertureWidth) x round(apertureHeight), and refuses to decode a crop
    that needs clamping to the image.
    """
    numbers = [uint_be(clap, at, 4, "AVIF clap") for at in range(0, 32, 4)]
    signed = [n - (1 << 32) if i in (4, 6) and n >= 1 << 31 else n for i, n in enumerate(numbers)]
    if any(d == 0 for d in signed[1::2]):
        raise UndecodableImage("AVIF clean aperture (clap) has a zero denominator")
    aperture_w, aperture_h, offset_x, offset_y = (
        Fraction(n, d) for n, d in zip(signed[::2], signed[1::2], strict=True)
    )
    left = int(offset_x + Fraction(width - 1, 2) - (aperture_w - 1) / 2)
    right = _libheif_round(aperture_w - 1 + left)
    top = _libheif_round(offset_y + Fraction(height - 1, 2) - (aperture_h - 1) / 2)
    bottom = _libheif_round(aperture_h - 1 + top)
    if left < 0 or top < 0 or right >= width or bottom >= height or left > right or top > bottom:
        raise UndecodableImage(
            f"AVIF clean aperture (clap) {float(aperture_w):g}x{float(aperture_h):g} reaches "
            f"outside the {width}x{height} image"
        )
    return right - left + 1, bottom - top + 1


def _tile_pixels(boxes: Boxes, found: _Meta) -> int:
    """Pixels of all the tiles a grid primary item is made of (0 for any other item)."""
    if found.primary is None or found.item_types.get(found.primary) != b"grid":
        return 0
    total = 0
    for tile in found.tiles:
        ispe = _first(found.properties_of(tile), b"ispe")
        if ispe is None:
            raise UndecodableImage(f"AVIF grid tile {tile} has no image extent (ispe)")
        total += _pixels(_extent(boxes.payload(ispe)))
    return total


def _read_meta(boxes: Boxes, meta: Box) -> _Meta:
    found = _Meta()
    children = list(boxes.children(meta.start + 4, meta.end))  # meta is a full box
    for box in children:
        if box.kind == b"pitm":
            version = uint_be(boxes.payload(box), 0, 1, "AVIF pitm")
            found.primary = uint_be(boxes.payload(box), 4, 2 if version == 0 else 4, "AVIF pitm")
    for box in children:
        if box.kind == b"iprp":
            for child in boxes.children(box.start, box.end):
                if child.kind == b"ipco":
                    found.properties = list(boxes.children(child.start, child.end))
                elif child.kind == b"ipma":
                    found.ipma.append(boxes.payload(child))
        elif box.kind == b"iinf":
            found.item_types = _item_types(boxes, box)
        elif box.kind == b"iref" and found.primary is not None:
            found.tiles = _references(boxes, box, found.primary, b"dimg")
    return found


def _infe_entries(boxes: Boxes, iinf: Box) -> Iterator[bytes]:
    """The payload of each item info entry (`infe`) the item info box (`iinf`) lists."""
    version = uint_be(boxes.data, iinf.start, 1, "AVIF iinf")
    first = iinf.start + (6 if version == 0 else 8)  # version, flags, entry count (2 or 4)
    for infe in boxes.children(min(first, iinf.end), iinf.end):
        if infe.kind == b"infe":
            yield boxes.payload(infe)


def _item_types(boxes: Boxes, iinf: Box) -> dict[int, bytes]:
    """Item ID to item type, for the infe entries of version 2 and 3."""
    types = {}
    for body in _infe_entries(boxes, iinf):
        if uint_be(body, 0, 1, "AVIF infe") < 2:
            continue
        id_size = 2 if body[0] == 2 else 4
        item = uint_be(body, 4, id_size, "AVIF infe")
        types[item] = body[4 + id_size + 2 : 4 + id_size + 6]  # after the protection index
    return types


def _references(boxes: Boxes, iref: Box, item: int, kind: bytes) -> list[int]:
    """The items `item` refers to by references of type `kind`."""
    id_size = 2 if uint_be(boxes.data, iref.start, 1, "AVIF iref") == 0 else 4
    targets: list[int] = []
    for ref in boxes.children(min(iref.start + 4, iref.end), iref.end):
        body = boxes.payload(ref)
        if ref.kind != kind or uint_be(body, 0, id_size, "AVIF iref") != item:
            continue
        count = min(uint_be(body, id_size, 2, "AVIF iref"), _MAX_ITEMS)
        at = id_size + 2
        targets += [uint_be(body, at + i * id_size, id_size, "AVIF iref") for i in range(count)]
    return targets


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


def _first(found: list[Box], kind: bytes) -> Box | None:
    return next((p for p in found if p.kind == kind), None)


def _extent(ispe: bytes) -> tuple[int, int]:
    # full box: version and flags (4), then width (4) and height (4)
    return uint_be(ispe, 4, 4, "AVIF ispe"), uint_be(ispe, 8, 4, "AVIF ispe")


def _largest_extent(boxes: Boxes, properties: list[Box]) -> Box | None:
    extents = [p for p in properties if p.kind == b"ispe"]
    if not extents:
        return None
    return max(extents, key=lambda p: _pixels(_extent(boxes.payload(p))))


def _pixels(size: tuple[int, int]) -> int:
    return size[0] * size[1]


def _is_alpha(aux_c: bytes) -> bool:
    # full box: version and flags (4), then a NUL-terminated URN
    return aux_c[4:].split(b"\x00", 1)[0] in _ALPHA_TYPES


# --- Stripping -----------------------------------------------------------------------------


def strip(data: bytes, _orientation: int) -> bytes | None:
    boxes = Boxes(data)
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
    return any(_is_metadata(infe) for infe in _infe_entries(boxes, iinf))


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
