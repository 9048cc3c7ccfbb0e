"""A `Plan`: the normalised pipeline, its output settings, and the cache key they make.

Normalisation folds output settings out of the ops (`format`, `quality`, `background`: the
last one wins, wherever it stands), applies `dpr` to the sizes after it, drops no-ops and
merges neighbours that add up, so equivalent pipelines share one cache entry; a per-format
`quality/jpeg:80,webp:75` becomes the chosen format's entry once the format is known, so it
keys like `quality/80`. `maxbytes/N` is an output setting too (the last wins); it refuses
`quality/auto` (both would choose the quality) and PNG or GIF (lossless: no quality to lower),
with `400`. The key is
computed without the source: "the source's format" is a fixed fact of the hash, so it is
keyed as `source`, and a cache hit needs no storage read. `format/auto` must be settled
(`with_format`) from the request's `Accept` before a key is made, and `dpr/auto` and
`resize/auto` rewritten from client hints (pipeline/hints.py) before a plan is made. A plan
whose crops are
placed by the image's content (`focal`, `face`, or a centred crop of an image with a stored
focal point), or that redacts faces, carries those facts (`with_hints`), and they are part of
its key: storing a focal point, or the worker finding faces, makes new variants rather than
changing cached ones.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Literal

from images_server.errors import InvalidPipeline
from images_server.pipeline import adjust
from images_server.pipeline.adjust import AdjustOp
from images_server.pipeline.focus import ImageHints
from images_server.pipeline.geometry import GeometryError
from images_server.pipeline.ops import (
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
    FormatQualities,
    MaxBytes,
    Op,
    OutputFormat,
    Overlay,
    Pad,
    PerFormatQuality,
    Quality,
    Redact,
    Resize,
    ResizeAuto,
    Rgba,
    Rotate,
    Sharpen,
    Text,
)

TransformOp = (
    Resize | Crop | Rotate | Flip | Blur | Sharpen | Filter | Pad | Overlay | Text | AdjustOp
    | Redact
)  # fmt: skip

DEFAULT_QUALITY: dict[OutputFormat, int] = {
    "jpeg": 85,
    "webp": 80,
    "avif": 60,
    "jxl": 75,  # libjxl distance 2.35: AVIF 60's SSIM on the samples, in fewer bytes (README)
    "png": 100,
    "gif": 100,
}

LOSSY: tuple[OutputFormat, ...] = ("jpeg", "webp", "avif", "jxl")  # where quality_drop applies
QUALITY_FLOOR = 30  # quality_drop never takes a default below this

# A number, `auto` (engines.quality picks it per image), or one number per lossy format.
QualityChoice = int | Literal["auto"] | FormatQualities


def _entry(entries: FormatQualities, output_format: str) -> int | None:
    return next((value for name, value in entries if name == output_format), None)


def quality_segment(quality: QualityChoice) -> str:
    if isinstance(quality, tuple):
        return PerFormatQuality(quality).segment()
    return "quality/auto" if quality == "auto" else Quality(quality).segment()


@dataclass(frozen=True)
class Plan:
    ops: tuple[TransformOp, ...]
    format: FormatChoice | None = None  # None: the source's format
    quality: QualityChoice | None = None  # None: DEFAULT_QUALITY of the output format
    background: Rgba | None = None  # None: transparent where the format allows, else white
    quality_drop: int = 0  # `Save-Data: on` (pipeline/hints.py): below the default quality
    hints: ImageHints | None = None  # the image's facts its crops use (None: they use none)
    max_bytes: int | None = None  # maxbytes/N: the highest quality whose output fits N bytes

    @property
    def is_identity(self) -> bool:
        """The original as stored: nothing to decode, nothing to cache."""
        output_settings = (self.format, self.quality, self.max_bytes)
        return not self.ops and output_settings == (None, None, None) and not self.quality_drop

    def canonical(self) -> str:
        segments = [op.segment() for op in self.ops]
        if self.background is not None:
            segments.append(Background(self.background).segment())
        if self.format:
            segments.append(f"format/{self.format}")
        if self.quality is not None:
            segments.append(quality_segment(self.quality))
        if self.quality_drop:  # not a segment of the grammar: keys only
            segments.append(f"quality/-{self.quality_drop}")
        if self.max_bytes is not None:
            segments.append(MaxBytes(self.max_bytes).segment())
        return "/".join(segments)

    def _uses(self, hints: ImageHints) -> tuple[bool, bool]:
        """Whether the crops use the stored focal point, and whether they use the faces."""
        crops = [op.geometry for op in self.ops if isinstance(op, Crop) and op.geometry.x is None]
        focal = any(
            (g.gravity == "focal" and g.focus is None)
            or (g.gravity == "c" and hints.focal is not None)
            for g in crops
        )
        faces = any(g.gravity == "face" for g in crops) or self.redacts_faces
        return focal, faces

    @property
    def redacts_faces(self) -> bool:
        return any(isinstance(op, Redact) and op.region is None for op in self.ops)

    def with_face_redaction(self) -> Plan:
        """This plan, then every face blurred (the operator's mandatory redaction), unless
        its last op already redacts the faces."""
        last = self.ops[-1] if self.ops else None
        if isinstance(last, Redact) and last.region is None:
            return self
        return replace(self, ops=(*self.ops, Redact()))

    def with_hints(self, hints: ImageHints | None) -> Plan:
        """This plan for an image with these facts (kept only where a crop uses them)."""
        focal, faces = self._uses(hints or ImageHints())
        if not (focal or faces) or hints is None:
            return replace(self, hints=None)
        kept = ImageHints(hints.focal if focal else None, hints.faces if faces else None)
        return replace(self, hints=kept)

    def _hints_key(self) -> str:
        if self.hints is None:
            return ""
        return "|" + self.hints.key(*self._uses(self.hints))

    def with_format(self, output_format: OutputFormat | None) -> Plan:
        return replace(self, format=output_format).settled()

    def settled(self) -> Plan:
        """Per-format qualities reduced to the chosen format's entry (or its default) once
        the format is fixed; kept whole while it is the source's (unknown when keying)."""
        if not isinstance(self.quality, tuple) or self.format in (None, "auto"):
            return self
        return replace(self, quality=_entry(self.quality, self.format))

    @property
    def auto_quality(self) -> bool:
        return self.quality == "auto"

    def check_budget(self, output_format: FormatChoice | None) -> None:
        """`InvalidPipeline` for a `maxbytes` that cannot be searched: beside `quality/auto`,
        or for a lossless output (known here, or once the source's format is)."""
        if self.max_bytes is None:
            return
        segment = f"'{MaxBytes(self.max_bytes).segment()}'"
        if self.quality == "auto":
            raise InvalidPipeline(
                f"{segment}: quality/auto and maxbytes both choose the quality; give one of them"
            )
        if output_format in ("png", "gif"):
            raise InvalidPipeline(
                f"{segment}: {output_format} is written lossless, so there is no quality to "
                "lower for a byte budget; add format/jpeg, format/webp, format/avif or format/jxl"
            )

    def output_format(self, source_format: OutputFormat) -> OutputFormat:
        if self.format == "auto":
            raise ValueError("format/auto must be negotiated before rendering")
        return self.format or source_format

    def output_quality(self, output_format: OutputFormat) -> int:
        """The quality to encode with (for `auto`, the default: the search sets its own)."""
        chosen = self.quality
        if isinstance(chosen, tuple):
            chosen = _entry(chosen, output_format)
        if isinstance(chosen, int):
            return chosen
        default = DEFAULT_QUALITY[output_format]
        if not self.quality_drop or output_format not in LOSSY:
            return default
        return max(min(default, QUALITY_FLOOR), default - self.quality_drop)

    def variant(self, engine_version: str) -> str:
        """Hex digest naming this variant of any one image, for cache keys and ETags."""
        if self.format == "auto":
            raise ValueError("format/auto must be negotiated before keying")
        text = f"{self.canonical()}|format={self.format or 'source'}|engine={engine_version}"
        text += self._hints_key()
        return hashlib.sha256(text.encode()).hexdigest()[:40]


def _merge(previous: TransformOp, op: TransformOp) -> list[TransformOp] | None:
    """The ops that replace two neighbours ([] when they cancel), or None if they do not merge."""
    match previous, op:
        case Flip(h1, v1), Flip(h2, v2):
            merged = Flip(h1 != h2, v1 != v2)
            return [merged] if merged.horizontal or merged.vertical else []
        case Rotate(a), Rotate(b) if a % 90 == 0 and b % 90 == 0:
            degrees = (a + b) % 360
            return [Rotate(degrees)] if degrees else []
        case Filter("invert"), Filter("invert"):
            return []
        case Filter("grayscale"), Filter("grayscale"):
            return [previous]
    return None


def _px(value: int, factor: float) -> int:
    return max(1, round(value * factor))


def _px_or_none(value: int | None, factor: float) -> int | None:
    return None if value is None else _px(value, factor)


def _scaled(op: TransformOp, factor: float) -> TransformOp:
    """`op` with its pixel sizes (and areas, offsets) multiplied by a device pixel ratio."""
    match op:
        case Resize(g):
            return Resize(replace(g, width=_px_or_none(g.width, factor),
                                  height=_px_or_none(g.height, factor),
                                  area=_px_or_none(g.area, factor * factor)))  # fmt: skip
        case Crop(g):
            scaled = replace(g, width=_px(g.width, factor), height=_px(g.height, factor))
            if g.x is not None and g.y is not None:
                scaled = replace(scaled, x=round(g.x * factor), y=round(g.y * factor))
            return Crop(scaled)
        case Pad(width, height):
            return Pad(_px(width, factor), _px(height, factor))
        case Overlay(margin=margin) if margin:
            return replace(op, margin=round(margin * factor))
        case Text():
            wrap = None if op.wrap is None else _px(op.wrap, factor)
            size = min(200, _px(op.size, factor))
            return replace(op, margin=round(op.margin * factor), size=size, wrap=wrap)
        case adjust.Radius() | adjust.Pixelate():
            return adjust.scaled(op, factor)
        case Redact((x, y, width, height), pixelate):
            region = (round(x * factor), round(y * factor), _px(width, factor), _px(height, factor))
            return Redact(region, pixelate)
    return op


def _add(transforms: list[TransformOp], op: TransformOp) -> None:
    if isinstance(op, Rotate) and op.degrees == 0:
        return
    if isinstance(op, AdjustOp) and adjust.is_identity(op):
        return
    merged = _merge(transforms[-1], op) if transforms else None
    if merged is None:
        transforms.append(op)
    else:
        transforms[-1:] = merged


HINTS_NEEDED = (
    "takes its value from client hints, which are off: set IMAGES_CLIENT_HINTS=true "
    "(docs/api.md §3); presets rendered ahead of any request cannot use it"
)


def make_plan(ops: tuple[Op, ...]) -> Plan:
    output_format: FormatChoice | None = None
    quality: QualityChoice | None = None
    background: Rgba | None = None
    max_bytes: int | None = None
    dpr = 1.0
    transforms: list[TransformOp] = []
    for op in ops:
        match op:
            case Format(name):
                output_format = name
            case Quality(value):
                quality = value
            case PerFormatQuality(entries):
                quality = entries
            case AutoQuality():
                quality = "auto"
            case MaxBytes(limit):
                max_bytes = limit
            case Background(rgba):
                background = rgba
            case Dpr(factor):
                dpr = factor
            case DprAuto() | ResizeAuto():
                raise InvalidPipeline(f"'{op.segment()}': {HINTS_NEEDED}")
            case _:
                try:
                    _add(transforms, _scaled(op, dpr) if dpr != 1 else op)
                except GeometryError as exc:
                    raise InvalidPipeline(f"'{op.segment()}' at dpr {dpr:g}: {exc}") from exc
    plan = Plan(tuple(transforms), output_format, quality, background, max_bytes=max_bytes)
    plan = plan.settled()
    plan.check_budget(output_format)
    return plan
