"""ImageMagick 6 geometry maths in pure Python: parse resize and crop geometry strings and
compute the exact pixel sizes and boxes that `convert -resize`, `-gravity G -crop` and
`-rotate` produce, so every engine agrees with ImageMagick without running it. The formulas
follow ImageMagick 6.9.11's ParseMetaGeometry, GravityAdjustGeometry, CropImage and the
best-fit bounds of its rotate distortion, including their floating-point operation order;
`tests/pipeline/geometry_table.json` pins them to the real `convert` output.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal, get_args

Gravity = Literal["nw", "n", "ne", "w", "c", "e", "sw", "s", "se"]
# Placed in Python from facts of the image (pipeline/focus.py), or by the engine (smart).
ContentGravity = Literal["smart", "focal", "face"]
Point = tuple[float, float]  # 0..1 of the upright original's width and height
ResizeFlag = Literal["", "!", ">", "<", "^"]
MAX_SIDE = 65535  # any width/height argument above this is rejected by the parser
MAX_PERCENT = 1000.0
MAX_AREA = 2**31 - 1  # ImageMagick masks geometry numbers to 31 bits

_MAGICK_EPSILON = 1.0e-12  # MagickEpsilon in ImageMagick 6.9.11 (magick-type.h)
_PERCENT_DECIMALS = 6  # enough for any real use, and keeps canonical() exact
_MAX_TEXT = 64

_SIZE_RE = re.compile(r"(?P<w>\d+)?(?:(?P<x>x)(?P<h>\d+)?)?(?P<flag>[!><^]?)", re.ASCII)
_PERCENT_RE = re.compile(rf"(?P<p>\d+(?:\.\d{{1,{_PERCENT_DECIMALS}}})?)%", re.ASCII)
_AREA_RE = re.compile(r"@(?P<a>\d+)", re.ASCII)
_GRAVITY_CROP_RE = re.compile(
    r"(?P<g>nw|ne|n|sw|se|s|w|c|e|smart|focal|face)?(?P<w>\d+)x(?P<h>\d+)", re.ASCII
)
_FOCAL_CROP_RE = re.compile(
    r"focal:(?P<fx>[01](?:\.\d{1,4})?),(?P<fy>[01](?:\.\d{1,4})?):(?P<w>\d+)x(?P<h>\d+)", re.ASCII
)
_OFFSET_CROP_RE = re.compile(r"(?P<w>\d+)x(?P<h>\d+)\+(?P<x>\d+)\+(?P<y>\d+)", re.ASCII)
_FLAGS: dict[str, ResizeFlag] = {flag: flag for flag in get_args(ResizeFlag)}
_CROP_GRAVITIES: dict[str, Gravity | ContentGravity] = {g: g for g in get_args(Gravity)}
_CROP_GRAVITIES.update({g: g for g in get_args(ContentGravity)})

# Column (x) and row (y) anchors of each gravity: 0 = left/top, 1 = centre, 2 = right/bottom.
_X_ANCHOR = {"nw": 0, "w": 0, "sw": 0, "n": 1, "c": 1, "s": 1, "ne": 2, "e": 2, "se": 2}
_Y_ANCHOR = {"nw": 0, "n": 0, "ne": 0, "w": 1, "c": 1, "e": 1, "sw": 2, "s": 2, "se": 2}


class GeometryError(ValueError):
    """A geometry that cannot be parsed or applied; the message is a short human sentence."""


def _check_side(name: str, value: int | None, low: int = 1, high: int = MAX_SIDE) -> None:
    if value is not None and not low <= value <= high:
        raise GeometryError(f"{name} must be {low}..{high}")


def _format_percent(value: float) -> str:
    return f"{value:.{_PERCENT_DECIMALS}f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class ResizeGeometry:
    """One of: a box (`width`/`height` plus `flag`), a `percent`, or a max `area`."""

    width: int | None = None
    height: int | None = None
    percent: float | None = None
    area: int | None = None
    flag: ResizeFlag = ""

    def __post_init__(self) -> None:
        has_box = self.width is not None or self.height is not None
        forms = [has_box, self.percent is not None, self.area is not None]
        if forms.count(True) != 1:
            raise GeometryError("give exactly one of a size, a percentage or an area")
        if self.flag and not has_box:
            raise GeometryError("flags only apply to a width/height size")
        _check_side("width", self.width)
        _check_side("height", self.height)
        _check_side("area", self.area, high=MAX_AREA)
        if self.percent is not None and not 0.0 < self.percent <= MAX_PERCENT:
            raise GeometryError(f"percentage must be more than 0 and at most {MAX_PERCENT:g}")

    def canonical(self) -> str:
        """Normalised text, equal for equivalent geometries ("200" and "200x" give "200x")."""
        if self.percent is not None:
            return f"{_format_percent(self.percent)}%"
        if self.area is not None:
            return f"@{self.area}"
        width = "" if self.width is None else str(self.width)
        height = "" if self.height is None else str(self.height)
        return f"{width}x{height}{self.flag}"


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class CropGeometry:
    """A `width` x `height` box placed by `gravity`, or at the explicit offset `x`, `y`;
    `focus` is a focal point given in the URL (gravity `focal` only)."""

    width: int
    height: int
    gravity: Gravity | ContentGravity = "c"
    x: int | None = None
    y: int | None = None
    focus: Point | None = None

    def __post_init__(self) -> None:
        _check_side("width", self.width)
        _check_side("height", self.height)
        _check_side("x", self.x, low=0)
        _check_side("y", self.y, low=0)
        if (self.x is None) != (self.y is None):
            raise GeometryError("give both x and y offsets, or neither")
        if self.x is not None and self.gravity != "nw":
            raise GeometryError("an explicit offset is measured from the top left (nw)")
        if self.gravity not in _CROP_GRAVITIES:
            raise GeometryError(f"unknown gravity {self.gravity!r}")
        if self.focus is not None and (
            self.gravity != "focal" or not all(0.0 <= v <= 1.0 for v in self.focus)
        ):
            raise GeometryError("a focal point is x,y from 0 to 1, with the gravity focal")

    def canonical(self) -> str:
        """Normalised text: "100x100" (centre), "n100x100", "smart100x100", "100x50+10+20".

        A north-west box is written in the offset form, since "nw100x50" is "100x50+0+0".
        """
        size = f"{self.width}x{self.height}"
        if self.focus is not None:
            return f"focal:{_format_percent(self.focus[0])},{_format_percent(self.focus[1])}:{size}"
        if self.gravity == "nw":
            return f"{size}+{self.x or 0}+{self.y or 0}"
        return size if self.gravity == "c" else f"{self.gravity}{size}"


def _number(text: str | None) -> int | None:
    return None if text is None else int(text)


def _check_text(text: str, what: str) -> None:
    if not text or len(text) > _MAX_TEXT or not text.isascii():
        raise GeometryError(f"invalid {what} geometry {text[:_MAX_TEXT]!r}")


def parse_resize(text: str) -> ResizeGeometry:
    """Parse W, Wx, xH, WxH (each optionally ending in ! > < ^), N% or @A.

    "W" and "Wx" are one geometry. ImageMagick differs only for a bare "W^" where W is the
    image's width, which it leaves alone; resize_size follows "Wx^" (cover a WxW square).
    """
    _check_text(text, "resize")
    if match := _PERCENT_RE.fullmatch(text):
        return ResizeGeometry(percent=float(match["p"]))
    if match := _AREA_RE.fullmatch(text):
        return ResizeGeometry(area=int(match["a"]))
    match = _SIZE_RE.fullmatch(text)
    if match is None or (match["w"] is None and match["h"] is None):
        raise GeometryError(f"invalid resize geometry {text!r}")
    flag = _FLAGS[match["flag"]]
    return ResizeGeometry(width=_number(match["w"]), height=_number(match["h"]), flag=flag)


def parse_crop(text: str) -> CropGeometry:
    """Parse "[gravity]WxH" (gravity nw n ne w c e sw s se smart focal face, default c),
    "focal:X,Y:WxH" (a focal point in 0..1 of the upright original) or "WxH+X+Y".

    "nwWxH" is the same box as "WxH+0+0" and parses to the same value.
    """
    _check_text(text, "crop")
    if match := _FOCAL_CROP_RE.fullmatch(text):
        point = (float(match["fx"]), float(match["fy"]))
        return CropGeometry(int(match["w"]), int(match["h"]), "focal", focus=point)
    if match := _OFFSET_CROP_RE.fullmatch(text):
        x, y = int(match["x"]), int(match["y"])
        return CropGeometry(int(match["w"]), int(match["h"]), "nw", x, y)
    match = _GRAVITY_CROP_RE.fullmatch(text)
    if match is None:
        raise GeometryError(f"invalid crop geometry {text!r}")
    gravity = _CROP_GRAVITIES[match["g"] or "c"]
    if gravity == "nw":
        return CropGeometry(int(match["w"]), int(match["h"]), "nw", 0, 0)
    return CropGeometry(int(match["w"]), int(match["h"]), gravity)


def _check_source(width: int, height: int) -> None:
    if width < 1 or height < 1:
        raise GeometryError("the image must be at least 1x1")


def _round(value: float) -> int:
    """ImageMagick's `(size_t) floor(value + 0.5)`."""
    return math.floor(value + 0.5)


def _reciprocal(value: float) -> float:
    """ImageMagick's PerceptibleReciprocal: 1/x, bounded away from division by ~zero."""
    sign = -1.0 if value < 0.0 else 1.0
    if sign * value >= _MAGICK_EPSILON:
        return 1.0 / value
    return sign / _MAGICK_EPSILON


def _scale_factor(
    source: tuple[int, int], box: tuple[int | None, int | None], cover: bool
) -> float:
    width, height = source
    box_w, box_h = box
    if box_w is not None and box_h is not None:
        fits = (box_w / width, box_h / height)
        return max(fits) if cover else min(fits)
    if box_w is not None:
        scale = box_w / width
        # "W^" covers a WxW square: it compares W against the height too.
        return max(scale, box_w / height) if cover else scale
    assert box_h is not None
    scale = box_h / height
    return max(scale, box_h / width) if cover else scale


def _fit(
    width: int, height: int, box: tuple[int | None, int | None], flag: ResizeFlag
) -> tuple[int, int]:
    """ParseMetaGeometry for a box: aspect-preserving fit, then the > / < clamps per side."""
    if flag == "!":
        new_w = width if box[0] is None else box[0]
        new_h = height if box[1] is None else box[1]
    else:
        scale = _scale_factor((width, height), box, cover=flag == "^")
        new_w = max(_round(scale * width), 1)
        new_h = max(_round(scale * height), 1)
    if flag == ">":
        new_w, new_h = min(new_w, width), min(new_h, height)
    elif flag == "<":
        new_w, new_h = max(new_w, width), max(new_h, height)
    return new_w, new_h


def _percent(width: int, height: int, percent: float) -> tuple[int, int]:
    return _round(percent * width / 100.0), _round(percent * height / 100.0)


def _area(width: int, height: int, area: int) -> tuple[int, int]:
    # ImageMagick reads "@A" as the bare width "A" first, so the area test compares against
    # the image fitted to width A; the area scale itself truncates instead of rounding.
    new_w, new_h = _fit(width, height, (area, None), "")
    distance = math.sqrt(float(width) * height)
    scale = _reciprocal(distance * _reciprocal(math.sqrt(area + math.sqrt(_MAGICK_EPSILON))))
    scale_x, scale_y = width * scale, height * scale
    if scale_x < new_w or scale_y < new_h:
        return int(scale_x), int(scale_y)
    return new_w, new_h


def resize_size(width: int, height: int, g: ResizeGeometry) -> tuple[int, int]:
    """The size `convert -size WxH xc: -resize GEOM` gives; never 0 in either dimension."""
    _check_source(width, height)
    if g.percent is not None:
        size = _percent(width, height, g.percent)
    elif g.area is not None:
        size = _area(width, height, g.area)
    else:
        size = _fit(width, height, (g.width, g.height), g.flag)
    if min(size) < 1:
        # ImageMagick refuses a zero-sized resize ("negative or zero image size") and
        # leaves the image as it was; % and @ can get here, a WxH box never does.
        return width, height
    return size


def _gravity_offset(width: int, height: int, g: CropGeometry) -> tuple[int, int]:
    """GravityAdjustGeometry with a +0+0 offset; centring halves each size separately."""
    gravity = "c" if g.gravity in ("smart", "focal", "face") else g.gravity
    xs = (0, width // 2 - g.width // 2, width - g.width)
    ys = (0, height // 2 - g.height // 2, height - g.height)
    return xs[_X_ANCHOR[gravity]], ys[_Y_ANCHOR[gravity]]


def crop_box(width: int, height: int, g: CropGeometry) -> Box:
    """The region `-gravity G -crop WxH+0+0` (or `-crop WxH+X+Y`) keeps, clipped to the image.

    For "smart", "focal" and "face" this is the centre box: the engine (smart) or
    `pipeline.focus` (focal, face) moves it, never resizes it.
    """
    _check_source(width, height)
    if g.x is not None and g.y is not None:
        x, y = g.x, g.y
    else:
        x, y = _gravity_offset(width, height, g)
    box_w, box_h = g.width, g.height
    if x < 0:
        box_w, x = box_w + x, 0
    if y < 0:
        box_h, y = box_h + y, 0
    box_w, box_h = min(box_w, width - x), min(box_h, height - y)
    if box_w <= 0 or box_h <= 0:
        raise GeometryError("crop box lies outside the image")
    return Box(x, y, box_w, box_h)


def _right_angles(degrees: float) -> tuple[int, float]:
    """Split like RotateImage: quarter turns, and a remainder in [-45, 45]."""
    angle = math.fmod(degrees, 360.0)
    while angle < -45.0:
        angle += 360.0
    turns = 0
    while angle > 45.0:
        angle -= 90.0
        turns += 1
    return turns % 4, angle


def _best_fit(width: int, height: int, degrees: float) -> tuple[int, int]:
    """DistortImage's best-fit canvas for an SRT rotation by `degrees` about the centre."""
    radians = math.pi * degrees / 180.0
    cos, sin = math.cos(radians), math.sin(radians)
    cx, cy = width / 2.0, height / 2.0
    # The reverse affine map (output -> input), then inverted, exactly as distort.c does.
    c0, c1, c3, c4 = cos, sin, -sin, cos
    c2, c5 = cx - cx * c0 - cy * c1, cy - cx * c3 - cy * c4
    det = _reciprocal(c0 * c4 - c1 * c3)
    ax, bx, tx = det * c4, det * -c1, det * (c1 * c5 - c2 * c4)
    ay, by, ty = det * -c3, det * c0, det * (c2 * c3 - c0 * c5)
    corners = [(0, 0), (width, 0), (0, height), (width, height)]
    xs = [ax * px + bx * py + tx for px, py in corners]
    ys = [ay * px + by * py + ty for px, py in corners]
    left, top = math.floor(min(xs) - 0.5), math.floor(min(ys) - 0.5)
    return math.ceil(max(xs) - left + 0.5), math.ceil(max(ys) - top + 0.5)


def rotated_size(width: int, height: int, degrees: float) -> tuple[int, int]:
    """The canvas size `convert -size WxH xc: -rotate D` gives (positive D is clockwise).

    Right angles keep or swap the sides; any other angle uses the rotate distortion's
    best-fit bounds, which are a pixel or two larger than the exact bounding box.
    """
    _check_source(width, height)
    if not math.isfinite(degrees):
        raise GeometryError("the angle must be a finite number of degrees")
    turns, rest = _right_angles(degrees)
    shear_x = -math.tan(math.pi * rest / 180.0 / 2.0)
    shear_y = math.sin(math.pi * rest / 180.0)
    if abs(shear_x) < _MAGICK_EPSILON and abs(shear_y) < _MAGICK_EPSILON:
        return (height, width) if turns % 2 else (width, height)
    return _best_fit(width, height, degrees)
