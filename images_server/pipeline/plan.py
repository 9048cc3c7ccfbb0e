"""A `Plan`: the normalised pipeline, its output settings, and the cache key they make.

Normalisation folds output settings (`format`, `quality`: the last one wins, wherever it
stands) out of the ops, drops no-ops and merges what can be merged, so equivalent pipelines
share one cache entry. The key is computed without the source: "the source's format" is a
fixed fact of the hash, so it is keyed as `source`, and a cache hit needs no storage read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from images_server.pipeline.ops import Crop, Flip, Format, Op, OutputFormat, Quality, Resize, Rotate

TransformOp = Resize | Crop | Rotate | Flip

DEFAULT_QUALITY: dict[OutputFormat, int] = {
    "jpeg": 85,
    "webp": 80,
    "avif": 60,
    "png": 100,
    "gif": 100,
}


@dataclass(frozen=True)
class Plan:
    ops: tuple[TransformOp, ...]
    format: OutputFormat | None = None  # None: the source's format
    quality: int | None = None  # None: DEFAULT_QUALITY of the output format

    @property
    def is_identity(self) -> bool:
        """The original as stored: nothing to decode, nothing to cache."""
        return not self.ops and self.format is None and self.quality is None

    def canonical(self) -> str:
        segments = [op.segment() for op in self.ops]
        if self.format:
            segments.append(f"format/{self.format}")
        if self.quality is not None:
            segments.append(f"quality/{self.quality}")
        return "/".join(segments)

    def output_format(self, source_format: OutputFormat) -> OutputFormat:
        return self.format or source_format

    def output_quality(self, output_format: OutputFormat) -> int:
        return self.quality if self.quality is not None else DEFAULT_QUALITY[output_format]

    def variant(self, engine_version: str) -> str:
        """Hex digest naming this variant of any one image, for cache keys and ETags."""
        text = f"{self.canonical()}|format={self.format or 'source'}|engine={engine_version}"
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
    return None


def make_plan(ops: tuple[Op, ...]) -> Plan:
    output_format: OutputFormat | None = None
    quality: int | None = None
    transforms: list[TransformOp] = []
    for op in ops:
        if isinstance(op, Format):
            output_format = op.format
        elif isinstance(op, Quality):
            quality = op.value
        elif isinstance(op, Rotate) and op.degrees == 0:
            continue
        elif transforms and (merged := _merge(transforms[-1], op)) is not None:
            transforms[-1:] = merged
        else:
            transforms.append(op)
    return Plan(tuple(transforms), output_format, quality)
