"""Edit the ISOBMFF boxes of an AVIF libvips wrote, to make variants libvips cannot write.

`add_properties` appends transformative properties (`clap`, `irot`, `imir`) to the primary
item of a still AVIF from `heifsave`: the boxes go at the end of `ipco`, their associations
(marked essential) at the end of the item's `ipma` entry, so they apply after `ispe`, in
the order given; `meta` grows, so every `iloc` offset past it moves by as much.
`as_sequence` wraps the first frame's coded data as an image sequence (`ftyp` brand `avis`,
a `moov` track of `pict` samples), with the still image beside it as the primary item, which
is how avifenc writes an animated AVIF.
"""

from __future__ import annotations

import struct
from fractions import Fraction

_CONTAINERS = {b"iprp": 0, b"ipco": 0}


def box(kind: bytes, body: bytes = b"") -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def full_box(kind: bytes, body: bytes, version: int = 0, flags: int = 0) -> bytes:
    return box(kind, bytes([version]) + flags.to_bytes(3, "big") + body)


def clap(
    width: Fraction | int,
    height: Fraction | int,
    horizontal_offset: Fraction | int = 0,
    vertical_offset: Fraction | int = 0,
) -> bytes:
    """A clean aperture: its size, and its centre's offset from the image's centre."""
    values = [Fraction(v) for v in (width, height, horizontal_offset, vertical_offset)]
    fields = [part for v in values for part in (v.numerator, v.denominator)]
    return box(b"clap", struct.pack(">IIIIiIiI", *fields))


def irot(quarter_turns: int) -> bytes:
    """A rotation by `quarter_turns` x 90 degrees anticlockwise."""
    return box(b"irot", bytes([quarter_turns & 3]))


def imir(axis: int) -> bytes:
    """A mirror: axis 0 flips top and bottom, 1 flips left and right (ISO/IEC 23008-12)."""
    return box(b"imir", bytes([axis & 1]))


def _children(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(kind, start, end) of each box in `data[start:end]`; plain 32-bit sizes only."""
    found = []
    pos = start
    while pos + 8 <= end:
        size = struct.unpack(">I", data[pos : pos + 4])[0]
        if size < 8:
            raise ValueError("box sizes of 0 and 1 are not handled here")
        found.append((data[pos + 4 : pos + 8], pos, pos + size))
        pos += size
    return found


def _top(data: bytes, kind: bytes) -> tuple[int, int]:
    return next((s, e) for k, s, e in _children(data, 0, len(data)) if k == kind)


def _primary(meta_body: bytes) -> int:
    start, _ = next((s, e) for k, s, e in _children(meta_body, 0, len(meta_body)) if k == b"pitm")
    return int(struct.unpack(">H", meta_body[start + 12 : start + 14])[0])


def _ipma_with(ipma: bytes, item: int, indices: list[int]) -> bytes:
    version, flags = ipma[8], int.from_bytes(ipma[9:12], "big")
    if version != 0 or flags & 1:
        raise ValueError("only ipma version 0 with 1-byte indices is handled")
    count = struct.unpack(">I", ipma[12:16])[0]
    out, pos = bytearray(ipma[12:16]), 16
    for _ in range(count):
        entry, n = struct.unpack(">HB", ipma[pos : pos + 3])
        associations = ipma[pos + 3 : pos + 3 + n]
        pos += 3 + n
        if entry == item:
            associations += bytes(0x80 | index for index in indices)  # essential
        out += struct.pack(">HB", entry, len(associations)) + associations
    return full_box(b"ipma", bytes(out), version, flags)


def _shift_iloc(iloc: bytes, past: int, delta: int) -> bytes:
    """`iloc` with every file offset at or after `past` moved by `delta` (versions 0, 1)."""
    body = bytearray(iloc[8:])
    version = body[0]
    offset_size, length_size = body[4] >> 4, body[4] & 15
    base_size, index_size = body[5] >> 4, (body[5] & 15 if version == 1 else 0)
    count, pos = struct.unpack(">H", body[6:8])[0], 8
    if version not in (0, 1):
        raise ValueError("only iloc versions 0 and 1 are handled")

    def shift(at: int, size: int) -> None:
        if size:
            value = int.from_bytes(body[at : at + size], "big")
            if value >= past:
                body[at : at + size] = (value + delta).to_bytes(size, "big")

    for _ in range(count):
        pos += 2  # item ID
        if version == 1:
            if body[pos + 1] & 15:
                raise ValueError("only file offsets (construction method 0) are handled")
            pos += 2
        pos += 2  # data reference index
        base = int.from_bytes(body[pos : pos + base_size], "big") if base_size else 0
        shift(pos, base_size)
        pos += base_size
        extents, pos = struct.unpack(">H", body[pos : pos + 2])[0], pos + 2
        for _ in range(extents):
            pos += index_size
            if not base:
                shift(pos, offset_size)
            pos += offset_size + length_size
    return iloc[:8] + bytes(body)


def add_properties(avif: bytes, *properties: bytes) -> bytes:
    """`avif` with `properties` associated with its primary item, after the ones it has."""
    meta_start, meta_end = _top(avif, b"meta")
    body = avif[meta_start + 12 : meta_end]
    item = _primary(body)
    parts: list[tuple[bytes, bytes]] = []
    for kind, start, end in _children(body, 0, len(body)):
        chunk = body[start:end]
        if kind == b"iprp":
            chunk = _iprp_with(chunk, item, properties)
        parts.append((kind, chunk))
    delta = sum(len(c) for _, c in parts) - len(body)
    rebuilt = b"".join(_shift_iloc(c, meta_end, delta) if k == b"iloc" else c for k, c in parts)
    meta = full_box(b"meta", rebuilt)
    return avif[:meta_start] + meta + avif[meta_end:]


def _iprp_with(iprp: bytes, item: int, properties: tuple[bytes, ...]) -> bytes:
    children = _children(iprp, 8, len(iprp))
    ipco = next(iprp[s:e] for k, s, e in children if k == b"ipco")
    existing = len(_children(ipco, 8, len(ipco)))
    new_ipco = box(b"ipco", ipco[8:] + b"".join(properties))
    indices = list(range(existing + 1, existing + 1 + len(properties)))
    out = b""
    for kind, start, end in children:
        if kind == b"ipco":
            out += new_ipco
        elif kind == b"ipma":
            out += _ipma_with(iprp[start:end], item, indices)
        else:
            out += iprp[start:end]
    return box(b"iprp", out)
