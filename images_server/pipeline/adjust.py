"""The ops that change how pixels look, not where they are: colour adjustments, trim, rounded
corners and pixelation; one frozen dataclass each, with its parser and its maths.

Each docstring defines what the op does to 8-bit sRGB values precisely enough that both engines
compute the same pixels (tests/engines compares them). Colour adjustments work on the
gamma-encoded values, as CSS filters do, and leave alpha alone; each result is clamped to
0..255. The numeric ranges are bounded where going further only clips every pixel to black or
white: a 400 says so instead of a flat picture.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

_FACTOR = re.compile(r"\d{1,2}(\.\d{1,3})?", re.ASCII)
_DEGREES = re.compile(r"-?\d{1,6}(\.\d{1,6})?", re.ASCII)
_WHOLE = re.compile(r"\d{1,5}", re.ASCII)

MAX_FACTOR = 4.0  # brightness, contrast, saturation: 4x already clips all but the darkest quarter
GAMMA_RANGE = (0.1, 10.0)  # 10 lifts 1/255 to 147; 0.1 sinks 254/255 to 245 and the rest to 0
MAX_BLOCK = 1000  # pixelate: a block larger than this is one colour on any usual image
MAX_RADIUS = 10_000  # radius: beyond half the longest side (MAX_SIDE) every radius is `max`


def _number(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Brightness:
    """`brightness/<f>`, f in 0..4: every colour channel multiplied by f (CSS `brightness()`)."""

    factor: float

    def segment(self) -> str:
        return f"brightness/{_number(self.factor)}"


@dataclass(frozen=True)
class Contrast:
    """`contrast/<f>`, f in 0..4: c -> f * c + 127.5 * (1 - f) per colour channel (CSS
    `contrast()`): values move away from (f > 1) or towards (f < 1) mid-grey."""

    factor: float

    def segment(self) -> str:
        return f"contrast/{_number(self.factor)}"


@dataclass(frozen=True)
class Saturation:
    """`saturation/<s>`, s in 0..4: the `saturate` matrix of the CSS Filter Effects spec (luma
    weights 0.213, 0.715, 0.072): 0 is grey, 1 unchanged, above 1 more colourful."""

    factor: float

    def segment(self) -> str:
        return f"saturation/{_number(self.factor)}"


@dataclass(frozen=True)
class Gamma:
    """`gamma/<g>`, g in 0.1..10: c -> 255 * (c / 255) ^ (1 / g), rounded, per colour channel
    (ImageMagick's `-gamma g`): above 1 lightens the mid-tones, below 1 darkens them."""

    value: float

    def segment(self) -> str:
        return f"gamma/{_number(self.value)}"


@dataclass(frozen=True)
class Hue:
    """`hue/<degrees>`: the `hueRotate` matrix of the CSS Filter Effects spec (any angle, kept
    in [0, 360)); 180 turns red to cyan-ish, luma stays close."""

    degrees: float

    def segment(self) -> str:
        return f"hue/{_number(self.degrees)}"


@dataclass(frozen=True)
class Pixelate:
    """`pixelate/<n>`, n in 1..1000 (a pixel size: `dpr` scales it): the image is cut into n x n
    blocks from its top-left corner (the last column and row of blocks are narrower when the
    size is not a multiple of n), and each pixel takes its block's mean (colour weighted by
    alpha, then alpha's own mean)."""

    size: int

    def segment(self) -> str:
        return f"pixelate/{self.size}"


@dataclass(frozen=True)
class Radius:
    """`radius/<px>` (1..10000, scaled by `dpr`) or `radius/max`: rounded corners.

    The corners are quarter-ellipses of radii rx, ry: both the radius, each clamped to half the
    image's side; `max` takes half of each side, so a square becomes a circle and any other
    rectangle an ellipse. A pixel's coverage is computed at its centre (x + 0.5, y + 0.5): with
    dx, dy its distance past the straight part of the edges (0 inside it), f = (dx/rx)^2 +
    (dy/ry)^2 - 1 and g = 2 * sqrt((dx/rx^2)^2 + (dy/ry^2)^2), coverage is 0.5 - f/g clamped to
    0..1 (about half a pixel of anti-aliasing across the curve). Alpha is multiplied by it; what
    is uncovered shows `background` when one is given, else transparency where the output format
    has alpha, else white (as rotate and pad fill).
    """

    pixels: int | None  # None: max

    def segment(self) -> str:
        return f"radius/{'max' if self.pixels is None else self.pixels}"


@dataclass(frozen=True)
class Trim:
    """`trim/<t>`, t in 0..255: the borders of the top-left pixel's colour are cut off.

    A pixel is content when any of its channels differs from the top-left pixel's by more than
    t: R, G and B multiplied by alpha / 255 (so every fully transparent pixel is alike, whatever
    colour it hides), and alpha itself; the result is the smallest box holding
    every content pixel. An image with no content is left whole. The box depends on the pixels,
    so the ops after a trim are sized once it is found (still by `pipeline.steps.resolve`, still
    within the output limit). An animation that stays animated cannot be trimmed (400): each
    frame would find its own box.
    """

    threshold: int

    def segment(self) -> str:
        return f"trim/{self.threshold}"


AdjustOp = Brightness | Contrast | Saturation | Gamma | Hue | Pixelate | Radius | Trim
ColourOp = Brightness | Contrast | Saturation | Hue


def _factor(name: str, arg: str, low: float, high: float) -> float:
    if not _FACTOR.fullmatch(arg) or not low <= float(arg) <= high:
        raise ValueError(f"{name} must be a number from {_number(low)} to {_number(high)}")
    return float(arg)


def _hue(arg: str) -> Hue:
    if not _DEGREES.fullmatch(arg):
        raise ValueError("degrees must be a number, e.g. 90 or -12.5")
    degrees = math.fmod(float(arg), 360.0)
    return Hue(degrees + 360.0 if degrees < 0 else degrees)


def _whole(name: str, arg: str, low: int, high: int) -> int:
    if not _WHOLE.fullmatch(arg) or not low <= int(arg) <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}")
    return int(arg)


def _radius(arg: str) -> Radius:
    if arg == "max":
        return Radius(None)
    if not _WHOLE.fullmatch(arg) or not 1 <= int(arg) <= MAX_RADIUS:
        raise ValueError(f"radius must be a whole number from 1 to {MAX_RADIUS}, or max")
    return Radius(int(arg))


ADJUST_PARSERS: dict[str, Callable[[str], AdjustOp]] = {
    "trim": lambda arg: Trim(_whole("trim", arg, 0, 255)),
    "brightness": lambda arg: Brightness(_factor("brightness", arg, 0, MAX_FACTOR)),
    "contrast": lambda arg: Contrast(_factor("contrast", arg, 0, MAX_FACTOR)),
    "saturation": lambda arg: Saturation(_factor("saturation", arg, 0, MAX_FACTOR)),
    "gamma": lambda arg: Gamma(_factor("gamma", arg, *GAMMA_RANGE)),
    "hue": _hue,
    "radius": _radius,
    "pixelate": lambda arg: Pixelate(_whole("pixelate", arg, 1, MAX_BLOCK)),
}


def is_identity(op: AdjustOp) -> bool:
    """An adjustment that changes no pixel (`brightness/1`, `hue/0`, `pixelate/1`, ...)."""
    match op:
        case Brightness(f) | Contrast(f) | Saturation(f) | Gamma(f):
            return f == 1
        case Hue(degrees):
            return degrees == 0
        case Pixelate(size):
            return size == 1
    return False


def scaled(op: AdjustOp, factor: float) -> AdjustOp:
    """`op` with its pixel sizes multiplied by a device pixel ratio."""
    match op:
        case Radius(int(pixels)):
            return Radius(max(1, round(pixels * factor)))
        case Pixelate(size):
            return Pixelate(max(1, round(size * factor)))
    return op


Matrix = tuple[tuple[float, float, float], ...]
Recolour = tuple[Matrix, tuple[float, float, float]]  # c' = M c + offset, on 0..255 values


def recolour(op: ColourOp) -> Recolour:
    """The 3x3 matrix and offset a colour adjustment applies to (R, G, B)."""
    zero = (0.0, 0.0, 0.0)
    match op:
        case Brightness(f):
            return _diagonal(f), zero
        case Contrast(f):
            return _diagonal(f), (127.5 * (1 - f),) * 3
        case Saturation(s):
            return _saturate(s), zero
        case Hue(degrees):
            return _hue_rotate(math.radians(degrees)), zero


def _diagonal(f: float) -> Matrix:
    return ((f, 0.0, 0.0), (0.0, f, 0.0), (0.0, 0.0, f))


def _saturate(s: float) -> Matrix:
    return (
        (0.213 + 0.787 * s, 0.715 - 0.715 * s, 0.072 - 0.072 * s),
        (0.213 - 0.213 * s, 0.715 + 0.285 * s, 0.072 - 0.072 * s),
        (0.213 - 0.213 * s, 0.715 - 0.715 * s, 0.072 + 0.928 * s),
    )


def _hue_rotate(a: float) -> Matrix:
    cos, sin = math.cos(a), math.sin(a)
    return (
        (0.213 + cos * 0.787 - sin * 0.213, 0.715 - cos * 0.715 - sin * 0.715,
         0.072 - cos * 0.072 + sin * 0.928),
        (0.213 - cos * 0.213 + sin * 0.143, 0.715 + cos * 0.285 + sin * 0.140,
         0.072 - cos * 0.072 - sin * 0.283),
        (0.213 - cos * 0.213 - sin * 0.787, 0.715 - cos * 0.715 + sin * 0.715,
         0.072 + cos * 0.928 + sin * 0.072),
    )  # fmt: skip
