"""Resolve a plan's ops against one image's size into concrete steps with pixel sizes.

This is where "sizes and boxes are computed once in Python" happens: engines receive steps
that already say how many pixels to produce, so every engine agrees on every size. It runs
from the header's dimensions, before any decoding, so an output over the limit is refused
before the expensive work. Crops with the gravity `focal` or `face` are placed here too, from
the image's `ImageHints` followed through the steps before them (pipeline/focus.py), and so
are the boxes `redact/…` blurs or pixelates, with how strongly: engines only apply them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from images_server.errors import FacesPending, InvalidPipeline, OutputTooLarge
from images_server.pipeline import adjust
from images_server.pipeline.adjust_steps import (
    AdjustStep,
    GammaBy,
    PixelateIn,
    RecolourBy,
    RoundCorners,
    adjust_step,
)
from images_server.pipeline.focus import (
    Frame,
    ImageHints,
    clip,
    face_boxes,
    faces_centre,
    mirrored,
    place,
    rotated,
    scaled,
    shifted,
)
from images_server.pipeline.geometry import (
    Box,
    CropGeometry,
    GeometryError,
    ResizeGeometry,
    crop_box,
    resize_size,
    rotated_size,
)
from images_server.pipeline.ops import (
    Blur,
    Crop,
    Filter,
    FilterName,
    Flip,
    Pad,
    Redact,
    Resize,
    Rotate,
    Sharpen,
)
from images_server.pipeline.overlay import Overlay, OverlayImage, placement
from images_server.pipeline.plan import TransformOp
from images_server.pipeline.text import Text


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


@dataclass(frozen=True)
class BlurBy:
    sigma: float  # Gaussian blur, as `convert -blur 0x<sigma>`


@dataclass(frozen=True)
class SharpenBy:
    sigma: float  # unsharp mask, amount 1, threshold 0: `convert -unsharp 0x<sigma>+1+0`


@dataclass(frozen=True)
class FilterWith:
    name: FilterName


@dataclass(frozen=True)
class PadTo:
    width: int  # the canvas, filled with the output's background
    height: int
    left: int  # where the image's top-left corner lands on it
    top: int


@dataclass(frozen=True)
class OverlayAt:
    source: OverlayImage  # decoded, turned upright and scaled to width x height by the engine
    width: int
    height: int
    opacity: float  # 0..1, multiplies the overlay's alpha
    positions: tuple[tuple[int, int], ...]  # each copy's top-left corner, clipped to the image


# What a plan lays over its image, loaded: stored overlays by hash, drawn text by segment
Overlays = Mapping[str, OverlayImage]


@dataclass(frozen=True)
class TrimThen:
    threshold: int  # pipeline.adjust.Trim: the engine finds the box (`after_trim` goes on)
    rest: tuple[TransformOp, ...]  # the ops after the trim, resolved once the box is known
    max_pixels: int
    overlays: Overlays = field(default_factory=dict, compare=False, hash=False)


# A redaction's strength follows its box's longer side L: a Gaussian blur of sigma L/8 (at
# most 50, as `blur/50`; `pixelate` hides larger faces better), or cells of L/8 pixels (at
# least 4) a side, each filled with the mean of its pixels (so at most 8 cells a side).
REDACT_SHARE = 8
MAX_REDACT_SIGMA = 50.0


@dataclass(frozen=True)
class RedactBoxes:
    boxes: tuple[Box, ...]  # inside the image, each redacted on its own
    pixelate: bool  # False: blurred

    @staticmethod
    def sigma(box: Box) -> float:
        return min(max(box.width, box.height) / REDACT_SHARE, MAX_REDACT_SIGMA)

    @staticmethod
    def cell(box: Box) -> int:
        """The side of a pixelation cell: the last row and column hold what is left."""
        return max(4, math.ceil(max(box.width, box.height) / REDACT_SHARE))


Step = (
    ResizeTo | CropTo | RotateBy | FlipAxes | BlurBy | SharpenBy | FilterWith | PadTo
    | AdjustStep | TrimThen | OverlayAt | RedactBoxes
)  # fmt: skip


@dataclass(frozen=True)
class Resolved:
    steps: tuple[Step, ...]
    width: int
    height: int


def _pad(op: Pad, width: int, height: int) -> list[Step]:
    """Fit inside the box (never enlarging), then centre on a canvas of exactly the box."""
    fitted = resize_size(width, height, ResizeGeometry(op.width, op.height, flag=">"))
    steps: list[Step] = [] if fitted == (width, height) else [ResizeTo(*fitted)]
    if fitted != (op.width, op.height):
        # ImageMagick's centre: each side halved first (75 px in 150 lands at 38, not 37)
        left, top = op.width // 2 - fitted[0] // 2, op.height // 2 - fitted[1] // 2
        steps.append(PadTo(op.width, op.height, left, top))
    return steps


def _overlay(op: Overlay, width: int, height: int, overlays: Overlays) -> OverlayAt:
    source = overlays.get(op.image)
    if source is None:
        raise GeometryError("no stored image has this hash")  # text is always drawn
    place = placement(op, width, height, source)
    return OverlayAt(source, place.width, place.height, op.opacity / 100, place.positions)


def _steps(
    op: TransformOp, width: int, height: int, focus: _Focus, overlays: Overlays
) -> list[Step]:
    match op:
        case Crop(geometry) if geometry.x is None and focus.places(geometry):
            return [focus.crop(geometry, width, height)]
        case Overlay():
            return [_overlay(op, width, height, overlays)] if width >= op.min_width else []
        case Text():
            return [_overlay(op.placed(), width, height, overlays)]
        case Pad():
            return _pad(op, width, height)
        case Blur(sigma):
            return [BlurBy(sigma)]
        case Sharpen(sigma):
            return [SharpenBy(sigma)]
        case Filter(name):
            return [FilterWith(name)]
        case adjust.Trim():
            raise ValueError("a trim is resolved by `resolve`, with the ops after it")
        case (adjust.Brightness() | adjust.Contrast() | adjust.Saturation() | adjust.Gamma()
              | adjust.Hue() | adjust.Pixelate() | adjust.Radius()):  # fmt: skip
            return [adjust_step(op, width, height)]
        case Redact():
            boxes = focus.redacted(op, width, height)
            return [RedactBoxes(boxes, op.pixelate)] if boxes else []
    step = _step(op, width, height)
    return [] if step is None else [step]


def _step(op: Resize | Crop | Rotate | Flip, width: int, height: int) -> Step | None:
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


@dataclass
class _Focus:
    """The image's hints, and where the original's points are in the current image."""

    hints: ImageHints
    frame: Frame | None

    def places(self, g: CropGeometry) -> bool:
        """Whether this crop is placed from the hints (else: as ImageMagick places it)."""
        return g.gravity in ("focal", "face") or (g.gravity == "c" and self.hints.focal is not None)

    def crop(self, g: CropGeometry, width: int, height: int) -> CropTo:
        box = crop_box(width, height, g)
        if g.gravity == "face":
            faces = self.hints.faces
            centre = (
                None
                if not faces or not self.frame
                else faces_centre(self.frame, faces, (width, height))
            )
            return (
                CropTo(box, smart=True)
                if centre is None
                else CropTo(place(width, height, box, centre))
            )
        point = g.focus or self.hints.focal
        if point is None or self.frame is None:
            return CropTo(box)
        return CropTo(place(width, height, box, self.frame.point(point)))

    def redacted(self, op: Redact, width: int, height: int) -> tuple[Box, ...]:
        """The boxes `op` redacts; never none for a face that may be in the image."""
        if op.region is not None:
            x, y, w, h = op.region
            box = clip(x, y, x + w, y + h, (width, height))
            if box is None:
                raise GeometryError("the region lies outside the image")
            return (box,)
        faces = self.hints.faces
        if faces is None:
            raise FacesPending()
        if not faces:
            return ()
        if self.frame is None:
            raise GeometryError(
                "after a smart crop the faces' places are unknown; crop with a gravity, "
                "focal or face before redacting them"
            )
        return face_boxes(self.frame, faces, (width, height))

    def follow(self, step: Step, width: int, height: int) -> None:
        """Move the frame through `step`, applied to an image of `width` x `height`."""
        if self.frame is None:
            return
        match step:
            case ResizeTo(w, h):
                self.frame = self.frame.then(scaled(w / width, h / height))
            case CropTo(_, smart=True):
                self.frame = None  # the engine places it: unknown here
            case CropTo(box):
                self.frame = self.frame.then(shifted(-box.x, -box.y))
            case RotateBy(degrees, w, h):
                self.frame = self.frame.then(rotated((width, height), (w, h), degrees))
            case FlipAxes(horizontal, vertical):
                self.frame = self.frame.then(mirrored(width, height, horizontal, vertical))
            case PadTo(_, _, left, top):
                self.frame = self.frame.then(shifted(left, top))
            case TrimThen():
                self.frame = None  # the engine finds the box: unknown here


def _size_after(step: Step, width: int, height: int) -> tuple[int, int]:
    match step:
        case ResizeTo(w, h) | RotateBy(_, w, h) | PadTo(w, h, _, _):
            return w, h
        case CropTo(box):
            return box.width, box.height
        case (FlipAxes() | BlurBy() | SharpenBy() | FilterWith() | RecolourBy() | GammaBy()
              | PixelateIn() | RoundCorners() | TrimThen() | OverlayAt()
              | RedactBoxes()):  # fmt: skip
            return width, height  # a trim's box is not known yet: at most this


def resolve(
    ops: tuple[TransformOp, ...],
    width: int,
    height: int,
    max_pixels: int,
    overlays: Overlays | None = None,
    hints: ImageHints | None = None,
) -> Resolved:
    """Steps for an image of `width` x `height` (with the `overlays` its ops name, loaded,
    and the image's `hints` its crops and redactions use); 400 naming the op that breaks a
    limit."""
    steps: list[Step] = []
    focus = _Focus(hints or ImageHints(), Frame.of(width, height))
    for index, op in enumerate(ops):
        if isinstance(op, adjust.Trim):
            steps.append(TrimThen(op.threshold, ops[index + 1 :], max_pixels, overlays or {}))
            break
        try:
            op_steps = _steps(op, width, height, focus, overlays or {})
        except GeometryError as exc:
            raise InvalidPipeline(f"'{op.segment()}': {exc}") from exc
        for step in op_steps:
            focus.follow(step, width, height)
            width, height = _size_after(step, width, height)
            if width * height > max_pixels:
                raise OutputTooLarge(
                    f"'{op.segment()}': {width}x{height} is more than the output limit "
                    f"of {max_pixels} pixels"
                )
        steps.extend(op_steps)
    return Resolved(tuple(steps), width, height)


def after_trim(step: TrimThen, box: Box, max_side: int) -> tuple[Step, ...]:
    """The steps after a trim once its box is found: the crop, then the rest of the plan
    resolved against the box's size (400 when that breaks the output limit or `max_side`)."""
    rest = resolve(step.rest, box.width, box.height, step.max_pixels, step.overlays)
    if max(rest.width, rest.height) > max_side:
        raise OutputTooLarge(
            f"'trim/{step.threshold}': {rest.width}x{rest.height} after it is larger than the "
            f"output format can hold ({max_side} pixels a side)"
        )
    return (CropTo(box), *rest.steps)
