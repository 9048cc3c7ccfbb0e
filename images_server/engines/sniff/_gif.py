"""GIF: the logical screen, then a bounded walk of the blocks to count the frames.

The image is the logical screen: a frame reaching past it is clipped to it, as browsers do
(and ImageMagick's coalesce), so that is the size reported, rendered and described. A
screen declared empty takes the frames' extent instead. libnsgif grows its canvas to hold a
first frame that overflows the screen, so that extent is reported as `canvas_pixels`, for
the pixel limits.
"""

from __future__ import annotations

from dataclasses import dataclass

from images_server.engines.sniff._common import SourceInfo, require_size, uint_le
from images_server.errors import UndecodableImage

_SIGNATURES = (b"GIF87a", b"GIF89a")
_IMAGE, _EXTENSION = 0x2C, 0x21
_GRAPHIC_CONTROL = 0xF9
_MAX_STEPS = 1_000_000  # blocks and sub-blocks walked: about 250 MB of ordinary GIF data


def matches(head: bytes) -> bool:
    return head[:6] in _SIGNATURES


def parse(data: bytes) -> SourceInfo:
    if len(data) < 13:
        raise UndecodableImage("truncated GIF header")
    flags = data[10]
    scan = _Scan(data)
    scan.walk(13 + _colour_table_size(flags))
    if scan.frames == 0:
        raise UndecodableImage("GIF has no image")
    screen = uint_le(data, 6, 2, "GIF header"), uint_le(data, 8, 2, "GIF header")
    extent = max(screen[0], scan.right), max(screen[1], scan.bottom)
    width, height = extent if 0 in screen else screen
    require_size(width, height, "GIF")
    return SourceInfo(
        "gif",
        width,
        height,
        frames=scan.frames,
        has_alpha=scan.transparent,
        canvas_pixels=extent[0] * extent[1] if extent != (width, height) else 0,
    )


def _colour_table_size(flags: int) -> int:
    return 3 << ((flags & 0x07) + 1) if flags & 0x80 else 0


@dataclass
class _Scan:
    """Counts image descriptors, stopping quietly where the data ends or stops making sense."""

    data: bytes
    frames: int = 0
    right: int = 0
    bottom: int = 0
    transparent: bool = False
    steps: int = 0

    def walk(self, pos: int) -> None:
        while 0 <= pos < len(self.data):
            self._step()
            introducer = self.data[pos]
            if introducer == _IMAGE:
                pos = self._image(pos)
            elif introducer == _EXTENSION:
                pos = self._extension(pos)
            else:
                return  # the trailer (3B), or garbage that ends the stream

    def _step(self) -> None:
        self.steps += 1
        if self.steps > _MAX_STEPS:
            raise UndecodableImage("GIF has too many blocks to inspect")

    def _image(self, pos: int) -> int:
        if pos + 10 > len(self.data):
            return -1
        left, top, width, height = (
            uint_le(self.data, pos + offset, 2, "GIF image descriptor") for offset in (1, 3, 5, 7)
        )
        if width == 0 or height == 0:
            raise UndecodableImage(f"GIF frame {self.frames + 1} has no pixels ({width}x{height})")
        self.right, self.bottom = max(self.right, left + width), max(self.bottom, top + height)
        self.frames += 1
        # descriptor (10), local colour table, LZW minimum code size (1), then sub-blocks
        return self._sub_blocks(pos + 11 + _colour_table_size(self.data[pos + 9]))

    def _extension(self, pos: int) -> int:
        label = self.data[pos + 1] if pos + 1 < len(self.data) else -1
        if label == _GRAPHIC_CONTROL and pos + 3 < len(self.data) and self.data[pos + 3] & 1:
            self.transparent = True
        return self._sub_blocks(pos + 2)

    def _sub_blocks(self, pos: int) -> int:
        """Position after the terminating empty sub-block, or -1 if the data ends first."""
        while pos < len(self.data):
            self._step()
            size = self.data[pos]
            pos += 1 + size
            if size == 0:
                return pos
        return -1
