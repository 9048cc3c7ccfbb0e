"""One frozen dataclass per pipeline op, each able to print its canonical `name/arg` segment.

Ops are what the parser produces and what normalisation and cache keys are made of; they
carry no sizes of any particular image (those are resolved later into `steps`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from images_server.formats import OUTPUT_FORMATS as OUTPUT_FORMATS  # re-exported
from images_server.formats import OutputFormat as OutputFormat
from images_server.pipeline.adjust import AdjustOp
from images_server.pipeline.geometry import MAX_SIDE, CropGeometry, GeometryError, ResizeGeometry
from images_server.pipeline.overlay import Overlay
from images_server.pipeline.text import Text

FormatChoice = OutputFormat | Literal["auto"]  # auto: negotiated from the request's Accept
# The formats whose quality means something: PNG and GIF are written lossless, whatever it is.
LossyFormat = Literal["jpeg", "webp", "avif", "jxl"]
LOSSY_FORMATS: tuple[LossyFormat, ...] = ("jpeg", "webp", "avif", "jxl")
FormatQualities = tuple[tuple[LossyFormat, int], ...]  # sorted by format: one spelling

FilterName = Literal["grayscale", "sepia", "invert"]
FILTERS: tuple[FilterName, ...] = ("grayscale", "sepia", "invert")

Rgba = tuple[int, int, int, int]


def _number(value: float) -> str:
    """Shortest text for a float: 90.0 -> "90", 12.50 -> "12.5"."""
    return f"{value:.6f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Resize:
    geometry: ResizeGeometry

    def segment(self) -> str:
        return f"resize/{self.geometry.canonical()}"


@dataclass(frozen=True)
class Crop:
    geometry: CropGeometry

    def segment(self) -> str:
        return f"crop/{self.geometry.canonical()}"


@dataclass(frozen=True)
class Rotate:
    degrees: float  # clockwise, normalised to [0, 360)

    def segment(self) -> str:
        return f"rotate/{_number(self.degrees)}"


@dataclass(frozen=True)
class Flip:
    horizontal: bool
    vertical: bool

    def segment(self) -> str:
        return "flip/" + ("h" if self.horizontal else "") + ("v" if self.vertical else "")


@dataclass(frozen=True)
class Format:
    format: FormatChoice

    def segment(self) -> str:
        return f"format/{self.format}"


@dataclass(frozen=True)
class Quality:
    value: int

    def segment(self) -> str:
        return f"quality/{self.value}"


@dataclass(frozen=True)
class PerFormatQuality:
    entries: FormatQualities  # `quality/jpeg:80,webp:75`; formats left out keep their default

    def segment(self) -> str:
        return "quality/" + ",".join(f"{name}:{value}" for name, value in self.entries)


@dataclass(frozen=True)
class AutoQuality:
    def segment(self) -> str:
        return "quality/auto"


@dataclass(frozen=True)
class MaxBytes:
    limit: int  # bytes the output may take: the highest quality that fits (engines.budget)

    def segment(self) -> str:
        return f"maxbytes/{self.limit}"


@dataclass(frozen=True)
class Blur:
    sigma: float

    def segment(self) -> str:
        return f"blur/{_number(self.sigma)}"


@dataclass(frozen=True)
class Sharpen:
    sigma: float

    def segment(self) -> str:
        return f"sharpen/{_number(self.sigma)}"


@dataclass(frozen=True)
class Filter:
    name: FilterName

    def segment(self) -> str:
        return f"filter/{self.name}"


@dataclass(frozen=True)
class Background:
    rgba: Rgba

    def segment(self) -> str:
        red, green, blue, alpha = self.rgba
        return f"background/{red:02x}{green:02x}{blue:02x}" + (
            "" if alpha == 255 else f"{alpha:02x}"
        )


@dataclass(frozen=True)
class Pad:
    width: int
    height: int

    def segment(self) -> str:
        return f"pad/{self.width}x{self.height}"


@dataclass(frozen=True)
class Redact:
    """Blur (or pixelate) every detected face (`region` None), or a region in pixels of the
    image at that point of the pipeline: x, y, width, height."""

    region: tuple[int, int, int, int] | None = None
    pixelate: bool = False

    def __post_init__(self) -> None:
        if self.region is None:
            return
        x, y, width, height = self.region
        if not (min(x, y) >= 0 and max(x, y) <= MAX_SIDE and min(width, height) >= 1
                and max(width, height) <= MAX_SIDE):  # fmt: skip
            raise GeometryError(f"x and y must be 0..{MAX_SIDE}, width and height 1..{MAX_SIDE}")

    def segment(self) -> str:
        target = "faces" if self.region is None else ",".join(map(str, self.region))
        return f"redact/{target}" + (",pixelate" if self.pixelate else "")


@dataclass(frozen=True)
class Dpr:
    factor: float

    def segment(self) -> str:
        return f"dpr/{_number(self.factor)}"


@dataclass(frozen=True)
class DprAuto:
    """`dpr/auto`: the device pixel ratio from client hints (pipeline/hints.py)."""

    def segment(self) -> str:
        return "dpr/auto"


@dataclass(frozen=True)
class ResizeAuto:
    """`resize/auto`: a width from client hints, never enlarging (pipeline/hints.py)."""

    def segment(self) -> str:
        return "resize/auto"


Op = (
    Resize
    | Crop
    | Rotate
    | Flip
    | Format
    | Quality
    | PerFormatQuality
    | AutoQuality
    | MaxBytes
    | Blur
    | Sharpen
    | Filter
    | Background
    | Pad
    | Redact
    | Dpr
    | Overlay
    | Text
    | DprAuto
    | ResizeAuto
    | AdjustOp  # pipeline/adjust.py: trim, colour adjustments, radius, pixelate
)
__all__ = ["Overlay", "Text"]  # defined with their grammars in pipeline/overlay.py, text.py
