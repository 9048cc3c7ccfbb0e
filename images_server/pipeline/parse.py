"""Parse a pipeline path (`resize/400x400/crop/n100x100`) into ops.

Every op takes exactly one argument. An unknown op, a missing argument or an out-of-range
value raises `InvalidPipeline` whose message names the offending segment, so a user sees
which part of a long URL is wrong (thumbor ignores unknown filters; we do not).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from images_server.errors import InvalidPipeline
from images_server.pipeline.geometry import GeometryError, parse_crop, parse_resize
from images_server.pipeline.ops import (
    OUTPUT_FORMATS,
    Crop,
    Flip,
    Format,
    Op,
    OutputFormat,
    Quality,
    Resize,
    Rotate,
)

_DEGREES = re.compile(r"-?\d{1,6}(\.\d{1,6})?")
_QUALITY = re.compile(r"\d{1,3}")
_FORMAT_ALIASES: dict[str, OutputFormat] = {"jpg": "jpeg"}


def _resize(arg: str) -> Op:
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
    if name not in OUTPUT_FORMATS:
        raise ValueError("format must be one of " + ", ".join(OUTPUT_FORMATS))
    return Format(name)


def _quality(arg: str) -> Op:
    if not _QUALITY.fullmatch(arg) or not 1 <= int(arg) <= 100:
        raise ValueError("quality must be a whole number from 1 to 100")
    return Quality(int(arg))


PARSERS: dict[str, Callable[[str], Op]] = {
    "resize": _resize,
    "crop": _crop,
    "rotate": _rotate,
    "flip": _flip,
    "format": _format,
    "quality": _quality,
}


def parse_pipeline(path: str, max_ops: int) -> tuple[Op, ...]:
    """Ops of `path` in order; `InvalidPipeline` naming the bad segment otherwise."""
    if not path:
        return ()
    parts = path.split("/")
    if len(parts) % 2:
        raise InvalidPipeline(f"'{parts[-1]}': missing argument (every op takes one)")
    if len(parts) // 2 > max_ops:
        raise InvalidPipeline(f"too many ops: {len(parts) // 2} (at most {max_ops})")
    ops = []
    for name, arg in zip(parts[::2], parts[1::2], strict=True):
        segment = f"{name}/{arg}"
        parser = PARSERS.get(name)
        if parser is None:
            known = ", ".join(PARSERS)
            raise InvalidPipeline(f"'{segment}': unknown op '{name}' (known: {known})")
        if not arg:
            raise InvalidPipeline(f"'{segment}': missing argument")
        try:
            ops.append(parser(arg))
        except (GeometryError, ValueError) as exc:
            raise InvalidPipeline(f"'{segment}': {exc}") from exc
    return tuple(ops)
