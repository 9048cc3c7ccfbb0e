"""Parse a pipeline path (`resize/400x400/crop/n100x100`) into ops.

Every op takes exactly one argument. An unknown op, a missing argument or an out-of-range
value raises `InvalidPipeline` whose message names the offending segment, so a user sees
which part of a long URL is wrong (thumbor ignores unknown filters; we do not). Segments are
read left to right, so the first wrong one is named; an unknown op lists every known op.
`preset/<name>` expands in place to the preset's ops; presets do not nest.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping

from images_server.errors import InvalidPipeline
from images_server.pipeline.adjust import ADJUST_PARSERS
from images_server.pipeline.geometry import MAX_SIDE, parse_crop, parse_resize
from images_server.pipeline.ops import (
    FILTERS,
    LOSSY_FORMATS,
    OUTPUT_FORMATS,
    AutoQuality,
    Background,
    Blur,
    Crop,
    Dpr,
    DprAuto,
    Filter,
    Flip,
    Format,
    FormatChoice,
    LossyFormat,
    MaxBytes,
    Op,
    Pad,
    PerFormatQuality,
    Quality,
    Redact,
    Resize,
    ResizeAuto,
    Rotate,
    Sharpen,
)
from images_server.pipeline.overlay import parse_overlay
from images_server.pipeline.presets import DEFAULT_PRESETS, PRESET_MAX_OPS
from images_server.pipeline.text import parse_text

_DEGREES = re.compile(r"-?\d{1,6}(\.\d{1,6})?", re.ASCII)
_QUALITY = re.compile(r"\d{1,3}", re.ASCII)
_BYTES = re.compile(r"\d{1,9}", re.ASCII)
# A budget under 100 bytes holds no image header worth sending; over 20 MB is no budget for
# a web image (the 12 MP sample is 1.8 MB as a JPEG at quality 85).
MAX_BYTES_RANGE = (100, 20_000_000)
_SIGMA = re.compile(r"\d{1,2}(\.\d{1,3})?", re.ASCII)
_DPR = re.compile(r"\d(\.\d{1,2})?", re.ASCII)
_HEX = re.compile(r"[0-9a-fA-F]{6}([0-9a-fA-F]{2})?", re.ASCII)
_BOX = re.compile(r"(\d{1,5})x(\d{1,5})", re.ASCII)
_REGION = re.compile(r"(\d{1,5}),(\d{1,5}),(\d{1,5}),(\d{1,5})", re.ASCII)
_REDACT_MODES = {"blur": False, "pixelate": True}
_FORMAT_ALIASES: dict[str, FormatChoice] = {"jpg": "jpeg"}
_FORMATS: tuple[FormatChoice, ...] = (*OUTPUT_FORMATS, "auto")
_LOSSY: dict[str, LossyFormat] = {"jpg": "jpeg", **{name: name for name in LOSSY_FORMATS}}


def _resize(arg: str) -> Op:
    if arg == "auto":  # a width from client hints, settled per request (pipeline/hints.py)
        return ResizeAuto()
    return Resize(parse_resize(arg))


def _crop(arg: str) -> Op:
    return Crop(parse_crop(arg))


def _rotate(arg: str) -> Op:
    if not _DEGREES.fullmatch(arg):
        raise ValueError("degrees must be a number, e.g. 90 or -12.5")
    degrees = math.fmod(float(arg), 360.0)
    return Rotate(degrees + 360.0 if degrees < 0 else degrees)


def _flip(arg: str) -> Op:
    if arg not in ("h", "v", "hv", "vh"):
        raise ValueError("flip takes h, v or hv")
    return Flip(horizontal="h" in arg, vertical="v" in arg)


def _format(arg: str) -> Op:
    name = _FORMAT_ALIASES.get(arg, arg)
    if name not in _FORMATS:
        raise ValueError("format must be one of " + ", ".join(_FORMATS))
    return Format(name)


def _quality_value(arg: str) -> int:
    if not _QUALITY.fullmatch(arg) or not 1 <= int(arg) <= 100:
        raise ValueError("quality must be a whole number from 1 to 100")
    return int(arg)


def _quality(arg: str) -> Op:
    if arg == "auto":
        return AutoQuality()
    if ":" in arg:
        return PerFormatQuality(_format_qualities(arg))
    if not _QUALITY.fullmatch(arg):
        raise ValueError(
            "quality must be a whole number from 1 to 100, auto, or per format "
            "(e.g. jpeg:80,webp:75,avif:50)"
        )
    return Quality(_quality_value(arg))


def _format_qualities(arg: str) -> tuple[tuple[LossyFormat, int], ...]:
    """`jpeg:80,webp:75` as entries sorted by format, each format once."""
    entries: dict[LossyFormat, int] = {}
    for entry in arg.split(","):
        name, _, value = entry.partition(":")
        fmt = _LOSSY.get(name)
        if fmt is None:
            raise ValueError(
                f"'{entry}': per-format quality takes "
                + ", ".join(LOSSY_FORMATS)
                + " (PNG and GIF are written lossless, so quality does not apply to them)"
            )
        if fmt in entries:
            raise ValueError(f"'{entry}': {fmt} is given more than once")
        try:
            entries[fmt] = _quality_value(value)
        except ValueError as exc:
            raise ValueError(f"'{entry}': {exc}") from exc
    return tuple(sorted(entries.items()))


def _max_bytes(arg: str) -> Op:
    low, high = MAX_BYTES_RANGE
    if not _BYTES.fullmatch(arg) or not low <= int(arg) <= high:
        raise ValueError(f"maxbytes must be a whole number of bytes from {low} to {high}")
    return MaxBytes(int(arg))


def _sigma(arg: str) -> float:
    if not _SIGMA.fullmatch(arg) or not 0.1 <= float(arg) <= 50:
        raise ValueError("sigma must be a number from 0.1 to 50")
    return float(arg)


def _blur(arg: str) -> Op:
    return Blur(_sigma(arg))


def _sharpen(arg: str) -> Op:
    return Sharpen(_sigma(arg))


def _filter(arg: str) -> Op:
    if arg not in FILTERS:
        raise ValueError("filter must be one of " + ", ".join(FILTERS))
    return Filter(arg)


def _background(arg: str) -> Op:
    if not _HEX.fullmatch(arg):
        raise ValueError("background is a hex colour rrggbb or rrggbbaa")
    channels = [int(arg[i : i + 2], 16) for i in range(0, len(arg), 2)]
    red, green, blue, alpha = (*channels, 255)[:4]
    return Background((red, green, blue, alpha))


def _pad(arg: str) -> Op:
    match = _BOX.fullmatch(arg)
    if not match or not all(1 <= int(side) <= MAX_SIDE for side in match.groups()):
        raise ValueError(f"pad takes WxH, each side 1..{MAX_SIDE}")
    return Pad(int(match[1]), int(match[2]))


def _redact(arg: str) -> Op:
    *target, last = arg.split(",")
    if last in _REDACT_MODES:
        pixelate = _REDACT_MODES[last]
    else:
        pixelate = False
        target.append(last)
    if target == ["faces"]:
        return Redact(None, pixelate)
    match = _REGION.fullmatch(",".join(target))
    if not match:
        raise ValueError("redact takes faces or x,y,w,h in pixels, then ,pixelate if wanted")
    x, y, width, height = (int(v) for v in match.groups())
    return Redact((x, y, width, height), pixelate)


def _dpr(arg: str) -> Op:
    if arg == "auto":  # the client's own, from client hints (pipeline/hints.py)
        return DprAuto()
    if not _DPR.fullmatch(arg) or not 1 <= float(arg) <= 4:
        raise ValueError("dpr must be a number from 1 to 4, or auto")
    return Dpr(float(arg))


PARSERS: dict[str, Callable[[str], Op]] = {
    "resize": _resize,
    "crop": _crop,
    "rotate": _rotate,
    "flip": _flip,
    "format": _format,
    "quality": _quality,
    "maxbytes": _max_bytes,
    "blur": _blur,
    "sharpen": _sharpen,
    "filter": _filter,
    "background": _background,
    "pad": _pad,
    "redact": _redact,
    "dpr": _dpr,
    "overlay": parse_overlay,
    "text": parse_text,
    **ADJUST_PARSERS,
}
KNOWN_OPS = (*PARSERS, "preset")


def _preset(arg: str, presets: Mapping[str, str]) -> tuple[Op, ...]:
    if arg not in presets:
        known = ", ".join(sorted(presets)) or "none"
        raise ValueError(f"unknown preset (known: {known})")
    return parse_pipeline(presets[arg], PRESET_MAX_OPS, presets={})


def parse_op(name: str, arg: str, presets: Mapping[str, str] = DEFAULT_PRESETS) -> tuple[Op, ...]:
    """The ops one `name/arg` segment stands for; ValueError saying what is wrong with it."""
    parser = PARSERS.get(name)
    if parser is None and name != "preset":
        raise ValueError(_unknown_op(name))
    if not arg:
        raise ValueError("missing argument")
    if parser is None:
        return _preset(arg, presets)
    return (parser(arg),)


def parse_pipeline(
    path: str, max_ops: int, presets: Mapping[str, str] = DEFAULT_PRESETS
) -> tuple[Op, ...]:
    """Ops of `path` in order; `InvalidPipeline` naming the bad segment otherwise."""
    if not path:
        return ()
    parts = path.split("/")
    if len(parts) // 2 > max_ops:
        raise InvalidPipeline(f"too many ops: {len(parts) // 2} (at most {max_ops})")
    ops: list[Op] = []
    for name, arg in zip(parts[::2], parts[1::2], strict=False):
        try:
            ops.extend(parse_op(name, arg, presets))
        except ValueError as exc:  # GeometryError is one
            raise InvalidPipeline(f"'{name}/{arg}': {exc}") from exc
    if len(parts) % 2:
        raise InvalidPipeline(f"'{parts[-1]}': {_lone_segment_error(parts[-1])}")
    return tuple(ops)


def _lone_segment_error(name: str) -> str:
    # A trailing segment without an argument is most often a typo'd or invented op name, and
    # "missing argument" would send the user looking for an argument that cannot help.
    if name in KNOWN_OPS:
        return "missing argument (every op takes one)"
    return _unknown_op(name)


def _unknown_op(name: str) -> str:
    if not name:
        return "an empty segment where an op was expected (a doubled or trailing '/')"
    return f"unknown op '{name}' (known: {', '.join(KNOWN_OPS)})"
