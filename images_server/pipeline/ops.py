"""One frozen dataclass per pipeline op, each able to print its canonical `name/arg` segment.

Ops are what the parser produces and what normalisation and cache keys are made of; they
carry no sizes of any particular image (those are resolved later into `steps`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from images_server.pipeline.geometry import CropGeometry, ResizeGeometry

OutputFormat = Literal["jpeg", "png", "webp", "avif", "gif"]
OUTPUT_FORMATS: tuple[OutputFormat, ...] = ("jpeg", "png", "webp", "avif", "gif")


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
    format: OutputFormat

    def segment(self) -> str:
        return f"format/{self.format}"


@dataclass(frozen=True)
class Quality:
    value: int

    def segment(self) -> str:
        return f"quality/{self.value}"


Op = Resize | Crop | Rotate | Flip | Format | Quality
