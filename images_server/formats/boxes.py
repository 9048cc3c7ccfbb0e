"""ISO base media file format boxes (the container of AVIF and HEIC): a walker with one
budget per file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from images_server.errors import UndecodableImage
from images_server.formats.header import uint_be

MAX_BOXES = 10_000


@dataclass(frozen=True)
class Box:
    kind: bytes
    start: int  # first byte after the box header
    end: int


@dataclass
class Boxes:
    """Walks boxes of `data` with one budget for the whole file, so no input walks long.

    `what` names the format in error messages ("AVIF", "HEIC").
    """

    data: bytes
    what: str
    budget: int = MAX_BOXES

    def children(self, start: int, end: int, *, top_level: bool = False) -> Iterator[Box]:
        """The boxes in `data[start:end]`; at top level, a cut-off box ends the walk."""
        pos = start
        while pos + 8 <= end:
            self.budget -= 1
            if self.budget < 0:
                raise UndecodableImage(f"{self.what} has too many boxes to inspect")
            size, kind, header = (
                uint_be(self.data, pos, 4, f"{self.what} box"),
                self.data[pos + 4 : pos + 8],
                8,
            )
            if size == 1:
                size, header = uint_be(self.data, pos + 8, 8, f"{self.what} box"), 16
            elif size == 0:
                size = end - pos
            if size < header or pos + size > end:
                if top_level:
                    return
                raise UndecodableImage(f"{self.what} box {kind!r} is cut off or corrupt")
            yield Box(kind, pos + header, pos + size)
            pos += size

    def payload(self, box: Box) -> bytes:
        return self.data[box.start : box.end]
