"""Resolve a plan's ops against one image's size into concrete steps with pixel sizes.

This is where "sizes and boxes are computed once in Python" happens: engines receive steps
that already say how many pixels to produce, so every engine agrees on every size. It runs
from the header's dimensions, before any decoding, so an output over the limit is refused
before the expensive work.
"""

from __future__ import annotations

from dataclasses import dataclass

from images_server.errors import InvalidPipeline, OutputTooLarge
from images_server.pipeline.geometry import (
    Box,
    GeometryError,
    crop_box,
    resize_size,
    rotated_size,
)
from images_server.pipeline.ops import Crop, Flip, Resize, Rotate
from images_server.pipeline.plan import TransformOp


@dataclass(frozen=True)
class ResizeTo:
    width: int
    height: int


@dataclass(frozen=True)
class CropTo:
    box: Box
    smart: bool = False


@dataclass(frozen=True)
class RotateBy:
    degrees: float  # clockwise, (0, 360)
    width: int  # the canvas after rotation
    height: int


@dataclass(frozen=True)
class FlipAxes:
    horizontal: bool
    vertical: bool


Step = ResizeTo | CropTo | RotateBy | FlipAxes


@dataclass(frozen=True)
class Resolved:
    steps: tuple[Step, ...]
    width: int
    height: int


def _step(op: TransformOp, width: int, height: int) -> Step | None:
    match op:
        case Resize(geometry):
            size = resize_size(width, height, geometry)
            return None if size == (width, height) else ResizeTo(*size)
        case Crop(geometry):
            box = crop_box(width, height, geometry)
            if box == Box(0, 0, width, height):
                return None
            return CropTo(box, smart=geometry.gravity == "smart")
        case Rotate(degrees):
            return RotateBy(degrees, *rotated_size(width, height, degrees))
        case Flip(horizontal, vertical):
            return FlipAxes(horizontal, vertical)


def _size_after(step: Step, width: int, height: int) -> tuple[int, int]:
    match step:
        case ResizeTo(w, h) | RotateBy(_, w, h):
            return w, h
        case CropTo(box):
            return box.width, box.height
        case FlipAxes():
            return width, height


def resolve(ops: tuple[TransformOp, ...], width: int, height: int, max_pixels: int) -> Resolved:
    """Steps for an image of `width` x `height`; 400 naming the op that breaks a limit."""
    steps = []
    for op in ops:
        try:
            step = _step(op, width, height)
        except GeometryError as exc:
            raise InvalidPipeline(f"'{op.segment()}': {exc}") from exc
        if step is None:
            continue
        width, height = _size_after(step, width, height)
        if width * height > max_pixels:
            raise OutputTooLarge(
                f"'{op.segment()}': {width}x{height} is more than the output limit "
                f"of {max_pixels} pixels"
            )
        steps.append(step)
    return Resolved(tuple(steps), width, height)
