"""What `quality/auto` saves and costs: bytes at the default quality against the chosen one.

    python -m bench.quality

Each sample is shrunk once to fit inside 800x800, as `resize/800x800>` would, into lossless
pixels; for JPEG, WebP, AVIF and JPEG XL the row gives the bytes and SSIM at the format's default
quality, then what the server's own search (`engines.quality.auto_quality`, with the libvips
encoder as served) chooses: the quality, its bytes and SSIM, the encoder runs and the time of
the whole search (encodes and SSIMs). Printed as a Markdown table (the README's), and written
to bench/results/quality.json.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pyvips

from images_server.engines.base import WHITE, Output
from images_server.engines.deadline import NO_DEADLINE
from images_server.engines.quality import auto_quality, decoded, ssim
from images_server.engines.vips.encode import encode
from images_server.pipeline.ops import LossyFormat
from images_server.pipeline.plan import DEFAULT_QUALITY

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
RESULTS = Path(__file__).resolve().parent / "results" / "quality.json"
SOURCES = (
    "photo-12mp-4000x3000.jpg",
    "camera-iphone-8mp-3264x2448.jpg",
    "photo-1mp-1200x900.jpg",
    "camera-canon-3mp-orient6.jpg",
    "dice-alpha-300x225.png",  # a rendered graphic on transparency, kept at its 300 px
)
FORMATS: tuple[LossyFormat, ...] = ("jpeg", "webp", "avif", "jxl")


@dataclass(frozen=True)
class Row:
    source: str
    size: str
    format: str
    default_quality: int
    default_bytes: int
    default_ssim: float
    auto_quality: int
    auto_bytes: int
    auto_ssim: float
    encodes: int
    ms: float

    @property
    def saved(self) -> float:
        """The share of the default's bytes that `auto` saves (negative: it spends more)."""
        return 1 - self.auto_bytes / self.default_bytes


def _row(name: str, image: pyvips.Image, fmt: LossyFormat) -> Row:
    default = encode(image, Output(fmt, DEFAULT_QUALITY[fmt]))
    start = time.perf_counter()
    chosen = auto_quality(
        lambda quality: encode(image, Output(fmt, quality)), image, fmt, WHITE, NO_DEADLINE
    )
    ms = (time.perf_counter() - start) * 1000
    return Row(
        name, f"{image.width}x{image.height}", fmt,
        DEFAULT_QUALITY[fmt], len(default), round(ssim(image, decoded(default)), 4),
        chosen.quality, len(chosen.data), round(chosen.score or 0.0, 4),
        chosen.encodes, round(ms, 1),
    )  # fmt: skip


def measure(
    sources: tuple[str, ...] = SOURCES, width: int = 800, formats: tuple[LossyFormat, ...] = FORMATS
) -> list[Row]:
    rows: list[Row] = []
    for name in sources:
        image = pyvips.Image.thumbnail(str(SAMPLES / name), width, size="down").copy_memory()
        rows.extend(_row(name, image, fmt) for fmt in formats)
    return rows


def table(rows: list[Row]) -> str:
    lines = [
        "| source | size | format | default q | bytes | SSIM | auto q | bytes | SSIM | saved "
        "| encodes | ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.source} | {row.size} | {row.format} | {row.default_quality} "
            f"| {row.default_bytes:,} | {row.default_ssim:.4f} | {row.auto_quality} "
            f"| {row.auto_bytes:,} | {row.auto_ssim:.4f} | {row.saved:+.0%} "
            f"| {row.encodes} | {row.ms:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    pyvips.concurrency_set(1)  # as in the server: one thread per render
    rows = measure()
    print(table(rows))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps([asdict(row) for row in rows], indent=1) + "\n")


if __name__ == "__main__":
    main()
