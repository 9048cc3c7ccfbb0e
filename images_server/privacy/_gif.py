"""GIF: keep the screen, the images, graphic control, plain text and looping extensions.

Comment extensions and application extensions other than NETSCAPE2.0 and ANIMEXTS1.0
(looping) are dropped: XMP travels as the "XMP DataXMP" application extension, ICC profiles
as "ICCRGBG1012" (which decoders of GIF ignore). The image descriptors, colour tables and LZW
data are copied verbatim; the file ends at the trailer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from images_server.errors import UndecodableImage

_SIGNATURES = (b"GIF87a", b"GIF89a")
_IMAGE, _EXTENSION, _TRAILER = 0x2C, 0x21, 0x3B
_PLAIN_TEXT, _GRAPHIC_CONTROL, _APPLICATION = 0x01, 0xF9, 0xFF
_LOOPING = (b"\x0bNETSCAPE2.0", b"\x0bANIMEXTS1.0")  # sub-block size, then identifier
_MAX_STEPS = 1_000_000  # as the sniffer's walk


def strip(data: bytes, _orientation: int) -> bytes:
    if data[:6] not in _SIGNATURES or len(data) < 13:
        raise UndecodableImage("not a GIF, or its header is cut off")
    walk = _Walk(data)
    walk.copy(0, 13 + _colour_table_size(data[10]))
    walk.blocks()
    return b"".join(walk.out)


def _colour_table_size(flags: int) -> int:
    return 3 << ((flags & 0x07) + 1) if flags & 0x80 else 0


@dataclass
class _Walk:
    data: bytes
    out: list[bytes] = field(default_factory=list)
    pos: int = 0
    steps: int = 0

    def copy(self, start: int, end: int) -> None:
        self.out.append(self.data[start:end])
        self.pos = end

    def blocks(self) -> None:
        while self.pos < len(self.data):
            self._step()
            start = self.pos
            introducer = self.data[start]
            if introducer == _IMAGE:
                if start + 10 > len(self.data):
                    raise UndecodableImage("GIF image descriptor is cut off")
                # descriptor (10), local colour table, LZW minimum code size (1), sub-blocks
                table = _colour_table_size(self.data[start + 9])
                self.copy(start, self._sub_blocks(start + 11 + table))
            elif introducer == _EXTENSION:
                end = self._sub_blocks(start + 2)
                if self._kept_extension(start):
                    self.copy(start, end)
                self.pos = end
            else:  # the trailer, or garbage that ends the stream for decoders too
                self.out.append(bytes([_TRAILER]))
                return

    def _kept_extension(self, start: int) -> bool:
        label = self.data[start + 1] if start + 1 < len(self.data) else -1
        if label == _APPLICATION:
            return self.data[start + 2 : start + 14] in _LOOPING
        return label in (_GRAPHIC_CONTROL, _PLAIN_TEXT)

    def _sub_blocks(self, pos: int) -> int:
        """Position after the terminating empty sub-block (the data's end if it ends first)."""
        while pos < len(self.data):
            self._step()
            size = self.data[pos]
            pos += 1 + size
            if size == 0:
                return pos
        return len(self.data)

    def _step(self) -> None:
        self.steps += 1
        if self.steps > _MAX_STEPS:
            raise UndecodableImage("GIF has too many blocks")
