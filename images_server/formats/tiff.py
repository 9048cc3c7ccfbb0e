"""TIFF (and BigTIFF): the first page's size, samples and orientation from its IFD, and the
page count, read without decoding a strip or a tile.

Only the first page is ever decoded, but every page is counted by walking the chain of IFDs
(loops and overlong chains are refused), so that a multi-page bomb is refused by its page
count before a decoder sees it. `check_blocks`, run by the decoder, refuses a page whose
strips or tiles would each take more than `MAX_BLOCK_BYTES` to hold. TIFF originals are
always served re-encoded in a web format, so there is nothing to strip here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from images_server.errors import UndecodableImage
from images_server.formats.header import SourceInfo, displayed, require_size

MAX_PAGES = 1_000  # more is refused as a bomb (the frame limit, 100 by default, is lower)
MAX_ENTRIES = 4_096  # per IFD; real files have a few dozen
MAX_BLOCK_BYTES = 256 * 1024 * 1024  # one strip or tile, decoded

_CLASSIC, _BIG = 42, 43
_WIDTH, _HEIGHT, _BITS, _COMPRESSION, _PHOTOMETRIC = 256, 257, 258, 259, 262
_ORIENTATION, _SAMPLES, _ROWS_PER_STRIP = 274, 277, 278
_TILE_WIDTH, _TILE_LENGTH, _EXTRA_SAMPLES = 322, 323, 338
_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4,
          16: 8, 17: 8, 18: 8}  # fmt: skip
_UNSIGNED_INTEGERS = frozenset({1, 3, 4, 13, 16, 18})


def matches(head: bytes) -> bool:
    return head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


@dataclass(frozen=True)
class _Layout:
    order: Literal["little", "big"]
    big: bool

    @property
    def offset_size(self) -> int:
        return 8 if self.big else 4

    @property
    def count_size(self) -> int:
        return 8 if self.big else 2

    @property
    def entry_size(self) -> int:
        return 20 if self.big else 12


def _uint(data: bytes, offset: int, size: int, order: Literal["little", "big"]) -> int:
    if offset < 0 or offset + size > len(data):
        raise UndecodableImage("TIFF structure is cut off")
    return int.from_bytes(data[offset : offset + size], order)


def _layout(data: bytes) -> tuple[_Layout, int]:
    """The byte order and flavour, and the offset of the first IFD."""
    order: Literal["little", "big"] = "little" if data[:2] == b"II" else "big"
    version = _uint(data, 2, 2, order)
    if version == _CLASSIC:
        return _Layout(order, big=False), _uint(data, 4, 4, order)
    if _uint(data, 4, 2, order) != 8 or _uint(data, 6, 2, order) != 0:
        raise UndecodableImage("BigTIFF header declares an offset size other than 8")
    return _Layout(order, big=True), _uint(data, 8, 8, order)


def _entries(data: bytes, layout: _Layout, ifd: int) -> tuple[dict[int, tuple[int, ...]], int]:
    """The integer values of an IFD's tags (other types are skipped), and the next IFD."""
    count = _uint(data, ifd, layout.count_size, layout.order)
    if count == 0 or count > MAX_ENTRIES:
        raise UndecodableImage(f"TIFF directory declares {count} entries")
    tags: dict[int, tuple[int, ...]] = {}
    first = ifd + layout.count_size
    for entry in range(first, first + count * layout.entry_size, layout.entry_size):
        tag = _uint(data, entry, 2, layout.order)
        kind = _uint(data, entry + 2, 2, layout.order)
        if kind not in _UNSIGNED_INTEGERS:
            continue
        size = _SIZES[kind]
        values = _uint(data, entry + 4, layout.offset_size, layout.order)
        field = entry + 4 + layout.offset_size
        wanted = min(values, 8)  # the tags read here hold one value, or one per sample
        if values * size > layout.offset_size:
            field = _uint(data, field, layout.offset_size, layout.order)
        tags[tag] = tuple(_uint(data, field + i * size, size, layout.order) for i in range(wanted))
    end = first + count * layout.entry_size
    return tags, _uint(data, end, layout.offset_size, layout.order)


def _pages(data: bytes, layout: _Layout, first: int) -> int:
    """How many IFDs the chain holds; a loop or more than MAX_PAGES is refused."""
    seen = {first}
    pages, ifd = 1, first
    while True:
        count = _uint(data, ifd, layout.count_size, layout.order)
        if count > MAX_ENTRIES:
            raise UndecodableImage(f"TIFF directory declares {count} entries")
        end = ifd + layout.count_size + count * layout.entry_size
        ifd = _uint(data, end, layout.offset_size, layout.order)
        if ifd == 0:
            return pages
        if ifd in seen:
            raise UndecodableImage("TIFF directories form a loop")
        seen.add(ifd)
        pages += 1
        if pages > MAX_PAGES:
            raise UndecodableImage(f"TIFF has more than {MAX_PAGES} pages")


def _one(tags: dict[int, tuple[int, ...]], tag: int, default: int) -> int:
    values = tags.get(tag)
    return values[0] if values else default


def parse(data: bytes) -> SourceInfo:
    layout, first = _layout(data)
    if first < 8:
        raise UndecodableImage("TIFF's first directory offset points into its header")
    tags, _ = _entries(data, layout, first)
    width, height = _one(tags, _WIDTH, 0), _one(tags, _HEIGHT, 0)
    require_size(width, height, "TIFF")
    _samples(tags)  # refuses impossible sample layouts
    orientation = _one(tags, _ORIENTATION, 1)
    orientation = orientation if 1 <= orientation <= 8 else 1
    w, h = displayed(width, height, orientation)
    return SourceInfo(
        "tiff",
        w,
        h,
        orientation=orientation,
        frames=_pages(data, layout, first),
        has_alpha=_has_alpha(tags),
    )


def _has_alpha(tags: dict[int, tuple[int, ...]]) -> bool:
    """An extra sample marked as associated (1) or unassociated (2) alpha."""
    return any(value in (1, 2) for value in tags.get(_EXTRA_SAMPLES, ()))


def _samples(tags: dict[int, tuple[int, ...]]) -> tuple[int, int]:
    samples = _one(tags, _SAMPLES, 1)
    bits = max(tags.get(_BITS, (1,)))
    if not 1 <= samples <= 8 or bits not in (1, 2, 4, 8, 16, 32, 64):
        raise UndecodableImage(f"TIFF declares {samples} samples of {bits} bits")
    return samples, bits


def check_blocks(data: bytes) -> None:
    """Refuse a first page whose strips or tiles take more than `MAX_BLOCK_BYTES` each.

    Called by the decoder, after the pixel limits (a header bomb is refused by its size
    first): libtiff allocates one whole strip or tile at once, and a tile may be far larger
    than the image, or a strip of 64-bit samples far larger than its pixels suggest.
    """
    layout, first = _layout(data)
    tags, _ = _entries(data, layout, first)
    width, height = _one(tags, _WIDTH, 0), _one(tags, _HEIGHT, 0)
    samples, bits = _samples(tags)
    if _TILE_WIDTH in tags or _TILE_LENGTH in tags:
        block_w, block_h = _one(tags, _TILE_WIDTH, 0), _one(tags, _TILE_LENGTH, 0)
        if block_w <= 0 or block_h <= 0:
            raise UndecodableImage("TIFF declares empty tiles")
    else:
        block_w, block_h = width, min(_one(tags, _ROWS_PER_STRIP, height) or height, height)
    block_bytes = block_w * block_h * samples * bits // 8
    if block_bytes > MAX_BLOCK_BYTES:
        raise UndecodableImage(
            f"TIFF declares strips or tiles of {block_w}x{block_h} ({block_bytes} bytes each), "
            f"more than the limit of {MAX_BLOCK_BYTES} bytes"
        )
