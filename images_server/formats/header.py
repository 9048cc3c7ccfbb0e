"""What a header says about an image (`SourceInfo`), and bounds-checked integer reads."""

from __future__ import annotations

from dataclasses import dataclass

from images_server.errors import UndecodableImage
from images_server.formats import ImageFormat


@dataclass(frozen=True)
class SourceInfo:
    """What the header says about an image: its format and its size as displayed.

    `width` and `height` are after the EXIF orientation (5 to 8 swap them) or the AVIF
    transforms (`clap`, `irot`); `orientation` is the EXIF one still to apply when decoding
    (always 1 for AVIF, whose decoder applies its transforms itself, and for GIF).
    `canvas_pixels` is what a decoder allocates for one frame when that is more than the
    displayed size (0 otherwise): a GIF frame overflowing its logical screen grows libnsgif's
    canvas, and an AVIF grid's tiles may cover more than its canvas shows.
    """

    format: ImageFormat
    width: int
    height: int
    orientation: int = 1
    frames: int = 1
    has_alpha: bool = False
    canvas_pixels: int = 0

    @property
    def pixels(self) -> int:
        """Pixels of one frame, as displayed."""
        return self.width * self.height

    @property
    def decoded_pixels(self) -> int:
        """Pixels of one frame as a decoder holds it: what the source pixel limits count."""
        return max(self.pixels, self.canvas_pixels)


def uint_be(data: bytes, offset: int, size: int, what: str) -> int:
    """The big-endian unsigned integer at `offset`; `UndecodableImage` if it is cut off."""
    return int.from_bytes(_field(data, offset, size, what), "big")


def uint_le(data: bytes, offset: int, size: int, what: str) -> int:
    """The little-endian unsigned integer at `offset`; `UndecodableImage` if it is cut off."""
    return int.from_bytes(_field(data, offset, size, what), "little")


def _field(data: bytes, offset: int, size: int, what: str) -> bytes:
    if offset < 0 or offset + size > len(data):
        raise UndecodableImage(f"truncated {what}")
    return data[offset : offset + size]


def displayed(width: int, height: int, orientation: int) -> tuple[int, int]:
    """The stored size turned upright: EXIF orientations 5 to 8 transpose the image."""
    return (height, width) if orientation >= 5 else (width, height)


def require_size(width: int, height: int, what: str) -> None:
    """Refuse an empty image, which no decoder will open."""
    if width <= 0 or height <= 0:
        raise UndecodableImage(f"{what} declares an empty image ({width}x{height})")
