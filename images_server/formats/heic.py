"""HEIC / HEIF with HEVC images (iPhones, many Android phones and cameras): the primary
item's displayed size, canvas, alpha and the count of images, read by `items`, the HEIF
item layer HEIC shares with AVIF.

A file is HEIC when its `ftyp` lists an HEVC brand (`heic`, `heix`, `heim`, `heis`, `hevc`,
`hevx`), or when it only says `mif1`/`msf1` (any HEIF) and its primary item is HEVC coded
(`hvc1`, or a grid of `hvc1` tiles). A file with an AVIF brand is AVIF, whatever else it
lists, so that AVIF is recognised exactly as before; the primary item of a `mif1`-only file
is only known from the whole file (`sniff`), not from the first 32 bytes (`sniff_format`).

The size is the primary item's `ispe` after `clap` and `irot` (libheif applies both, and
`imir`, when it decodes). The canvas counts what libheif holds: a grid's tiles, and the
primary's alpha plane (an auxiliary item of an alpha type that refers to it with `auxl`),
which is a picture of its own with its own `ispe`. `frames` is the number of top-level
images (a burst: items that are neither hidden, thumbnails, auxiliary images nor tiles),
or the samples of an image sequence track (`moov`) when more; only the primary is ever
decoded. A file cut off before the end of the data of the primary, its tiles or its alpha
(by their `iloc` extents) is refused here: libheif decodes a grid with missing tiles. A
sequence without a still primary image (no meta box) is refused as unsupported.
"""

from __future__ import annotations

from images_server.errors import UndecodableImage
from images_server.formats import avif, items
from images_server.formats.boxes import Box, Boxes
from images_server.formats.header import SourceInfo, uint_be
from images_server.formats.items import Meta

_HEVC_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx")
_ANY_HEIF = (b"mif1", b"msf1")
_HEVC_ITEM = b"hvc1"
_IMAGE_ITEMS = (b"hvc1", b"grid", b"iden", b"iovl")
_MAX_FTYP = 1024
_TRACK_PATH = (b"trak", b"mdia", b"minf", b"stbl")


def matches(head: bytes) -> bool:
    if avif.matches(head):
        return False
    brands = _brands(head)
    if any(brand in _HEVC_BRANDS for brand in brands):
        return True
    return bool(brands) and brands[0] in _ANY_HEIF and _primary_is_hevc(head)


def _brands(head: bytes) -> list[bytes]:
    """The major brand, then the compatible ones, of an `ftyp` box at the start."""
    if head[4:8] != b"ftyp":
        return []
    size = int.from_bytes(head[:4], "big")
    if size < 16:
        return []
    end = min(size, len(head), _MAX_FTYP)
    return [head[8:12], *(head[pos : pos + 4] for pos in range(16, end - 3, 4))]


def _primary_is_hevc(data: bytes) -> bool:
    """Whether the primary item is HEVC coded (or a grid of HEVC tiles)."""
    try:
        boxes = Boxes(data, "HEIC")
        meta = items.first(items.top_level(boxes, (b"meta",)), b"meta")
        if meta is None:
            return False
        found = items.read_meta(boxes, meta)
        if found.primary is None:
            return False
        kind = found.item_types.get(found.primary)
        if kind == b"grid":
            tiles = found.refers(found.primary, b"dimg")
            return bool(tiles) and found.item_types.get(tiles[0]) == _HEVC_ITEM
        return kind == _HEVC_ITEM
    except UndecodableImage:
        return False  # a broken mif1 file is no known format


def parse(data: bytes) -> SourceInfo:
    boxes = Boxes(data, "HEIC")
    top, meta, found = items.still_meta(boxes)
    primary = items.primary_size(boxes, found)
    alpha = _alpha_items(boxes, found)
    has_alpha = bool(alpha) if found.primary is not None else items.has_alpha(boxes, found)
    canvas = max([primary.canvas, *(items.item_pixels(boxes, found, item) for item in alpha)])
    _require_data(boxes, meta, found, alpha)
    frames = max(_top_level_images(found), _track_samples(boxes, top), 1)
    return SourceInfo(
        "heic",
        primary.width,
        primary.height,
        frames=frames,
        has_alpha=has_alpha,
        canvas_pixels=canvas if canvas > primary.width * primary.height else 0,
    )


def _require_data(boxes: Boxes, meta: Box, found: Meta, alpha: list[int]) -> None:
    """Refuse a file cut off in the data of an item the decoder reads (libheif decodes a
    grid whose tiles are missing without a word)."""
    if found.primary is None:
        return
    needed = [found.primary, *alpha]
    needed += [tile for item in needed for tile in found.refers(item, b"dimg")]
    ends = items.data_ends(boxes, meta)
    for item in needed:
        if ends.get(item, 0) > len(boxes.data):
            raise UndecodableImage(
                f"HEIC is cut off: the data of item {item} ends at byte {ends[item]} of a "
                f"{len(boxes.data)}-byte file"
            )


def _alpha_items(boxes: Boxes, found: Meta) -> list[int]:
    """The auxiliary items that are the primary's alpha plane."""
    if found.primary is None:
        return []
    return [
        item
        for item in found.referring(found.primary, b"auxl")[: items.MAX_ITEMS]
        if any(
            items.is_alpha(boxes.payload(p)) for p in found.properties_of(item) if p.kind == b"auxC"
        )
    ]


def _top_level_images(found: Meta) -> int:
    """Images shown on their own: not hidden, not a thumbnail, an auxiliary image or a tile."""
    dependent = set(found.hidden)
    for kind in (b"thmb", b"auxl"):
        dependent.update(source for source, _ in found.links(kind))
    for _, targets in found.links(b"dimg"):
        dependent.update(targets)
    return sum(
        1
        for item, kind in found.item_types.items()
        if kind in _IMAGE_ITEMS and item not in dependent
    )


def _track_samples(boxes: Boxes, top: list[Box]) -> int:
    """The most samples any track of an image sequence has (its `stsz` sample count)."""
    most = 0
    for moov in (box for box in top if box.kind == b"moov"):
        for stbl in _descend(boxes, [moov], _TRACK_PATH):
            for box in boxes.children(stbl.start, stbl.end):
                if box.kind in (b"stsz", b"stz2"):
                    most = max(most, uint_be(boxes.payload(box), 8, 4, "HEIC stsz"))
    return most


def _descend(boxes: Boxes, parents: list[Box], path: tuple[bytes, ...]) -> list[Box]:
    """The boxes reached from `parents` through the child kinds of `path`, in turn."""
    for kind in path:
        parents = [b for p in parents for b in boxes.children(p.start, p.end) if b.kind == kind]
    return parents
