"""The steps of `pipeline.adjust`'s ops, resolved against one image's size.

Colour adjustments become one matrix and offset (`RecolourBy`), pixelation a list of regions
whose sizes are whole multiples of their blocks, rounded corners the two radii; so engines
receive numbers, not meanings, and compute the same pixels. A trim's box is the one thing
found from the pixels: `pipeline.steps` turns it into `TrimThen`, carrying the ops after it.
"""

from __future__ import annotations

from dataclasses import dataclass

from images_server.pipeline.adjust import (
    Brightness,
    Contrast,
    Gamma,
    Hue,
    Matrix,
    Pixelate,
    Radius,
    Saturation,
    recolour,
)
from images_server.pipeline.geometry import Box


@dataclass(frozen=True)
class RecolourBy:
    matrix: Matrix  # c' = matrix . (r, g, b) + offset on 0..255, clamped; alpha unchanged
    offset: tuple[float, float, float]


@dataclass(frozen=True)
class GammaBy:
    value: float  # c' = 255 * (c / 255) ^ (1 / value), rounded; alpha unchanged


@dataclass(frozen=True)
class Blocks:
    box: Box  # a region whose width and height are whole multiples of the block's
    width: int
    height: int


@dataclass(frozen=True)
class PixelateIn:
    regions: tuple[Blocks, ...]  # they tile the image: interior, right, bottom, corner


@dataclass(frozen=True)
class RoundCorners:
    rx: float  # the corners' radii, each at most half the image's side
    ry: float


AdjustStep = RecolourBy | GammaBy | PixelateIn | RoundCorners


def pixelate_regions(width: int, height: int, size: int) -> tuple[Blocks, ...]:
    """The n x n blocks from the top-left corner, grouped in up to four regions of equal
    blocks: the whole blocks, the narrower column on the right, the shorter row at the bottom
    and the corner where both meet."""
    whole_w, whole_h = width - width % size, height - height % size
    rest_w, rest_h = width % size, height % size
    candidates = (
        Blocks(Box(0, 0, whole_w, whole_h), size, size),
        Blocks(Box(whole_w, 0, rest_w, whole_h), rest_w, size),
        Blocks(Box(0, whole_h, whole_w, rest_h), size, rest_h),
        Blocks(Box(whole_w, whole_h, rest_w, rest_h), rest_w, rest_h),
    )
    return tuple(blocks for blocks in candidates if blocks.box.width and blocks.box.height)


def adjust_step(
    op: Brightness | Contrast | Saturation | Hue | Gamma | Pixelate | Radius,
    width: int,
    height: int,
) -> AdjustStep:
    match op:
        case Brightness() | Contrast() | Saturation() | Hue():
            return RecolourBy(*recolour(op))
        case Gamma(value):
            return GammaBy(value)
        case Pixelate(size):
            return PixelateIn(pixelate_regions(width, height, size))
        case Radius(pixels):
            if pixels is None:
                return RoundCorners(width / 2, height / 2)
            return RoundCorners(min(pixels, width / 2), min(pixels, height / 2))
