"""`overlay/<hash>,<options>`: another stored image composited on the current one.

The one argument is the overlay's hash, then comma-separated options in any order: a gravity
(`nw n ne w c e sw s se`, default `se`), a margin in pixels from the edges the overlay is
placed against (a bare number, default 0; ignored by `c` on that axis), `o<percent>` its
opacity (1..100, default 100), `s<percent>` its width as a share of the current image's width
(1..100; default its own size, shrunk to fit inside the image when larger) and `tile`, which
repeats it over the whole image from the top-left corner with `margin` pixels between copies,
and `min<px>`, which leaves images narrower than that untouched (the server-wide watermark's
threshold, `IMAGES_WATERMARK_MIN_WIDTH`, is one). Sizes and positions are worked out here from
the headers (`placement`), so both engines put the overlay on the same pixels and the output
limit is checked before decoding."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import get_args

from images_server.pipeline.geometry import MAX_SIDE, GeometryError, Gravity

MAX_TILES = 1024  # copies one `tile` may place; more is refused (a 1 px overlay on 50 MP)
_HASH = re.compile(r"[0-9a-f]{64}", re.ASCII)
_MARGIN = re.compile(r"\d{1,5}", re.ASCII)
_PERCENT = re.compile(r"([os])(\d{1,3})", re.ASCII)
_MIN_WIDTH = re.compile(r"min(\d{1,5})", re.ASCII)
_GRAVITIES: tuple[str, ...] = get_args(Gravity)
# Column (x) and row (y) anchors: 0 = left/top, 1 = centre, 2 = right/bottom.
_X = {"nw": 0, "w": 0, "sw": 0, "n": 1, "c": 1, "s": 1, "ne": 2, "e": 2, "se": 2}
_Y = {"nw": 0, "n": 0, "ne": 0, "w": 1, "c": 1, "e": 1, "sw": 2, "s": 2, "se": 2}


@dataclass(frozen=True)
class Overlay:
    image: str  # the overlay's hash (an uploaded original)
    gravity: Gravity = "se"
    margin: int = 0
    opacity: int = 100  # percent
    scale: int | None = None  # percent of the current image's width; None: its own size
    tile: bool = False
    min_width: int = 0  # images narrower than this get no overlay

    def segment(self) -> str:
        return f"overlay/{self.argument()}"

    def argument(self) -> str:
        parts = [self.image, self.gravity, str(self.margin), f"o{self.opacity}"]
        parts += [f"s{self.scale}"] if self.scale is not None else []
        parts += ["tile"] if self.tile else []
        parts += [f"min{self.min_width}"] if self.min_width else []
        return ",".join(parts)


@dataclass(frozen=True, eq=False)
class OverlayImage:
    """A stored overlay's bytes and its upright size, as the engines decode it."""

    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class Placement:
    width: int  # the overlay once scaled
    height: int
    positions: tuple[tuple[int, int], ...]  # top-left corners; a copy may reach past an edge


def parse_overlay(arg: str) -> Overlay:
    """`<hash>[,option...]`; ValueError saying what is wrong."""
    image, *options = arg.split(",")
    if not _HASH.fullmatch(image):
        raise ValueError("the overlay must start with an image's hash (64 lowercase hex)")
    found: dict[str, object] = {}
    for option in options:
        key, value = _option(option)
        if key in found:
            raise ValueError(f"{key} is given twice")
        found[key] = value
    return Overlay(image, **found)  # type: ignore[arg-type]


def _option(option: str) -> tuple[str, object]:
    if option in _GRAVITIES:
        return "gravity", option
    if option == "tile":
        return "tile", True
    if minimum := _MIN_WIDTH.fullmatch(option):
        return "min_width", min(int(minimum[1]), MAX_SIDE)
    if _MARGIN.fullmatch(option):
        margin = int(option)
        if margin > MAX_SIDE:
            raise ValueError(f"margin must be 0..{MAX_SIDE}")
        return "margin", margin
    match = _PERCENT.fullmatch(option)
    if match and 1 <= int(match[2]) <= 100:
        return ("opacity" if match[1] == "o" else "scale"), int(match[2])
    if match:
        raise ValueError(f"'{option}': {'opacity' if match[1] == 'o' else 'scale'} is 1..100")
    raise ValueError(
        f"unknown overlay option '{option}' (gravity nw n ne w c e sw s se, a margin in "
        "pixels, o<opacity %>, s<width %>, tile or min<width>)"
    )


def _size(op: Overlay, width: int, height: int, own: OverlayImage) -> tuple[int, int]:
    """The overlay's size: never larger than the image, so never more pixels than it."""
    w, h = own.width, own.height
    if op.scale is not None:
        w = max(1, round(width * op.scale / 100))
        h = max(1, round(own.height * w / own.width))
    if w <= width and h <= height:
        return w, h
    factor = min(width / w, height / h)  # fit inside the image
    return max(1, round(w * factor)), max(1, round(h * factor))


def _anchor(anchor: int, room: int, size: int, margin: int) -> int:
    return (margin, (room - size) // 2, room - size - margin)[anchor]


def placement(op: Overlay, width: int, height: int, own: OverlayImage) -> Placement:
    """Where `op`'s copies land on a `width` x `height` image."""
    w, h = _size(op, width, height, own)
    if not op.tile:
        x = _anchor(_X[op.gravity], width, w, op.margin)
        y = _anchor(_Y[op.gravity], height, h, op.margin)
        return Placement(w, h, ((x, y),))
    columns = range(0, width, w + op.margin)
    rows = range(0, height, h + op.margin)
    if len(columns) * len(rows) > MAX_TILES:
        raise GeometryError(
            f"tiling would place {len(columns) * len(rows)} copies (at most {MAX_TILES}): "
            "scale the overlay up or add a margin"
        )
    return Placement(w, h, tuple((x, y) for y in rows for x in columns))
