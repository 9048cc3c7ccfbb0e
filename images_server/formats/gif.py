"""GIF: one bounded walk of the blocks (`blocks`), read by the sniffer and by the stripper.

Sniffing: the image is the logical screen: a frame reaching past it is clipped to it, as
browsers do (and ImageMagick's coalesce), so that is the size reported, rendered and
described. A screen declared empty takes the frames' extent instead. libnsgif grows its
canvas to hold a first frame that overflows the screen, so that extent is reported as
`canvas_pixels`, for the pixel limits. The walk stops quietly where the data ends or stops
making sense.

Stripping: keep the screen, the images, graphic control, plain text and looping
extensions. Comment extensions and application extensions other than NETSCAPE2.0 and
ANIMEXTS1.0 (looping) are dropped: XMP travels as the "XMP DataXMP" application extension,
ICC profiles as "ICCRGBG1012" (which decoders of GIF ignore). The image descriptors, colour
tables and LZW data are copied verbatim; the file ends at the trailer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from images_server.errors import UndecodableImage
from images_server.formats.header import SourceInfo, require_size, uint_le

_SIGNATURES = (b"GIF87a", b"GIF89a")
_IMAGE, _EXTENSION, _TRAILER = 0x2C, 0x21, 0x3B
_PLAIN_TEXT, _GRAPHIC_CONTROL, _APPLICATION = 0x01, 0xF9, 0xFF
_LOOPING = (b"\x0bNETSCAPE2.0", b"\x0bANIMEXTS1.0")  # sub-block size, then identifier
_MAX_STEPS = 1_000_000  # blocks and sub-blocks walked: about 250 MB of ordinary GIF data


def matches(head: bytes) -> bool:
    return head[:6] in _SIGNATURES


def _colour_table_size(flags: int) -> int:
    return 3 << ((flags & 0x07) + 1) if flags & 0x80 else 0


@dataclass(frozen=True)
class Block:
    """One block after the header: an image, an extension, or what ends the stream."""

    introducer: int  # _IMAGE, _EXTENSION, or anything else: the trailer, or garbage
    start: int
    end: int  # after its terminating sub-block; the data's end when it ends first
    whole: bool  # False: the data ends inside it (an image: its descriptor, if `end == start`)


def blocks(data: bytes, too_many: str) -> Iterator[Block]:
    """The blocks after the header and global colour table, up to the first that ends the
    stream (yielded too) or the data's end; `UndecodableImage(too_many)` past the budget."""
    steps = 0

    def step() -> None:
        nonlocal steps
        steps += 1
        if steps > _MAX_STEPS:
            raise UndecodableImage(too_many)

    def sub_blocks(pos: int) -> int | None:
        """Position after the terminating empty sub-block; None if the data ends first."""
        while pos < len(data):
            step()
            size = data[pos]
            pos += 1 + size
            if size == 0:
                return pos
        return None

    pos = 13 + _colour_table_size(data[10])
    while pos < len(data):
        step()
        introducer = data[pos]
        if introducer == _IMAGE:
            if pos + 10 > len(data):
                yield Block(_IMAGE, pos, pos, whole=False)
                return
            # descriptor (10), local colour table, LZW minimum code size (1), then sub-blocks
            end = sub_blocks(pos + 11 + _colour_table_size(data[pos + 9]))
        elif introducer == _EXTENSION:
            end = sub_blocks(pos + 2)
        else:
            yield Block(introducer, pos, pos + 1, whole=True)
            return
        yield Block(introducer, pos, len(data) if end is None else end, whole=end is not None)
        if end is None:
            return
        pos = end


# --- Sniffing ------------------------------------------------------------------------------


def parse(data: bytes) -> SourceInfo:
    if len(data) < 13:
        raise UndecodableImage("truncated GIF header")
    frames, right, bottom, transparent = 0, 0, 0, False
    for block in blocks(data, "GIF has too many blocks to inspect"):
        if block.introducer == _IMAGE and block.end > block.start:
            left, top, width, height = (
                uint_le(data, block.start + at, 2, "GIF image descriptor") for at in (1, 3, 5, 7)
            )
            if width == 0 or height == 0:
                raise UndecodableImage(f"GIF frame {frames + 1} has no pixels ({width}x{height})")
            right, bottom = max(right, left + width), max(bottom, top + height)
            frames += 1
        elif block.introducer == _EXTENSION and _transparent(data, block.start):
            transparent = True
    if frames == 0:
        raise UndecodableImage("GIF has no image")
    screen = uint_le(data, 6, 2, "GIF header"), uint_le(data, 8, 2, "GIF header")
    extent = max(screen[0], right), max(screen[1], bottom)
    width, height = extent if 0 in screen else screen
    require_size(width, height, "GIF")
    return SourceInfo(
        "gif",
        width,
        height,
        frames=frames,
        has_alpha=transparent,
        canvas_pixels=extent[0] * extent[1] if extent != (width, height) else 0,
    )


def _transparent(data: bytes, start: int) -> bool:
    """Whether the extension at `start` is a graphic control with its transparency flag."""
    label = data[start + 1] if start + 1 < len(data) else -1
    return label == _GRAPHIC_CONTROL and start + 3 < len(data) and bool(data[start + 3] & 1)


# --- Stripping -----------------------------------------------------------------------------


def strip(data: bytes, _orientation: int) -> bytes:
    if data[:6] not in _SIGNATURES or len(data) < 13:
        raise UndecodableImage("not a GIF, or its header is cut off")
    out = [data[: 13 + _colour_table_size(data[10])]]
    for block in blocks(data, "GIF has too many blocks"):
        if block.introducer == _IMAGE:
            if block.end == block.start:
                raise UndecodableImage("GIF image descriptor is cut off")
            out.append(data[block.start : block.end])
        elif block.introducer == _EXTENSION:
            if _kept_extension(data, block.start):
                out.append(data[block.start : block.end])
        else:  # the trailer, or garbage that ends the stream for decoders too
            out.append(bytes([_TRAILER]))
    return b"".join(out)


def _kept_extension(data: bytes, start: int) -> bool:
    label = data[start + 1] if start + 1 < len(data) else -1
    if label == _APPLICATION:
        return data[start + 2 : start + 14] in _LOOPING
    return label in (_GRAPHIC_CONTROL, _PLAIN_TEXT)
