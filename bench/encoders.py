"""Size, time and fidelity of the lossy encoders, to choose each format's effort and quality.

    python -m bench.encoders [--runs 5]

Each sample photo is shrunk once, as the server would (`resize/800x`, and a 300x200 fill), into
lossless pixels; each row then encodes those pixels with libvips, as `engines.vips.encode` does
(JPEG XL with libjxl, as `engines.jxl_encode` does), and reports the median encode time, the
bytes, and the SSIM of the decoded result against the pixels it was made from (`bench.ssim`).
Printed as a Markdown table (the README's), and written to bench/results/encoders.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import pyvips

from bench.ssim import ssim
from images_server.engines import jxl_encode
from images_server.engines.quality import decoded as decoded_again

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
RESULTS = Path(__file__).resolve().parent / "results" / "encoders.json"
SOURCES = (
    ("photo-12mp-4000x3000.jpg", 800, None),
    ("camera-iphone-8mp-3264x2448.jpg", 800, None),
    ("photo-1mp-1200x900.jpg", 300, 200),
)
# (format, quality, effort); JPEG's effort here is 0 for the standard Huffman tables (as
# served) and 1 for optimised ones
ROWS: tuple[tuple[str, int, int | None], ...] = (
    ("jpeg", 85, 0),
    ("jpeg", 85, 1),
    ("webp", 80, 0),
    ("webp", 80, 1),
    ("webp", 80, 2),
    ("webp", 80, 4),
    ("webp", 75, 2),
    ("avif", 60, 0),
    ("avif", 60, 1),
    ("avif", 60, 2),
    ("avif", 60, 4),
    ("avif", 50, 0),
    ("avif", 50, 1),
    ("jxl", 75, 3),
    ("jxl", 75, 5),
    ("jxl", 75, 7),
    ("jxl", 70, 5),
)


@dataclass(frozen=True)
class Row:
    source: str
    size: str
    format: str
    quality: int
    effort: int | None
    bytes: int
    ms: float
    ssim: float


def _encoder(
    image: pyvips.Image, fmt: str, quality: int, effort: int | None
) -> Callable[[], bytes]:
    if fmt == "jpeg":
        optimised = bool(effort)
        return lambda: bytes(
            image.jpegsave_buffer(Q=quality, optimize_coding=optimised, keep="none")
        )
    if fmt == "webp":
        return lambda: bytes(image.webpsave_buffer(Q=quality, effort=effort, keep="none"))
    if fmt == "jxl":  # the server's libjxl encoder (engines.jxl_encode), as served
        pixels, bands = image.write_to_memory(), image.bands
        return lambda: jxl_encode.encode(
            pixels, image.width, image.height, bands, quality, effort=effort or jxl_encode.EFFORT
        )
    return lambda: bytes(
        image.heifsave_buffer(Q=quality, compression="av1", effort=effort, keep="none")
    )


def _median_ms(encode: Callable[[], bytes], runs: int) -> float:
    encode()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        encode()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _pixels(name: str, width: int, height: int | None) -> pyvips.Image:
    data = (SAMPLES / name).read_bytes()
    if height is None:
        return pyvips.Image.thumbnail_buffer(data, width).copy_memory()
    return pyvips.Image.thumbnail_buffer(data, width, height=height, crop="centre").copy_memory()


def measure(
    runs: int,
    sources: tuple[tuple[str, int, int | None], ...] = SOURCES,
    settings: tuple[tuple[str, int, int | None], ...] = ROWS,
) -> list[Row]:
    rows = []
    for name, width, height in sources:
        image = _pixels(name, width, height)
        for fmt, quality, effort in settings:
            encode = _encoder(image, fmt, quality, effort)
            body = encode()
            decoded = decoded_again(body)
            rows.append(
                Row(
                    name,
                    f"{image.width}x{image.height}",
                    fmt,
                    quality,
                    effort,
                    len(body),
                    round(_median_ms(encode, runs), 1),
                    round(ssim(image, decoded), 4),
                )
            )
    return rows


def table(rows: list[Row]) -> str:
    lines = [
        "| source | size | format | quality | effort | bytes | encode ms | SSIM |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        effort = "" if row.effort is None else str(row.effort)
        lines.append(
            f"| {row.source} | {row.size} | {row.format} | {row.quality} | {effort} "
            f"| {row.bytes:,} | {row.ms:.1f} | {row.ssim:.4f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    pyvips.concurrency_set(1)  # as in the server: one thread per render
    rows = measure(args.runs)
    print(table(rows))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps([asdict(row) for row in rows], indent=1) + "\n")


if __name__ == "__main__":
    main()
