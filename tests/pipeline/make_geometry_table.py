"""Regenerate geometry_table.json: what the real ImageMagick CLI does for many sizes and geometries.

Runs /usr/bin/convert (never /usr/local/bin/convert, which may be a stand-in) once per row on a
process pool and records, per row: the kind (resize, crop, rotate), the source size, the
geometry in this server's own syntax, and ImageMagick's answer. For a crop the answer is the
kept region [x, y, width, height] read from the page offsets before +repage, or null when
ImageMagick reports that the geometry does not contain the image. Rows where convert runs into
one of its resource limits (an enlargement over 16K pixels a side, say) say nothing about
geometry and are dropped; their number is recorded. Resizes whose output could pass
MAX_OUTPUT_PIXELS are not generated at all, as they are slow. Deterministic: fixed lists.

    .venv/bin/python tests/pipeline/make_geometry_table.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

CONVERT = "/usr/bin/convert"
OUT = Path(__file__).with_name("geometry_table.json")

GRAVITIES = {
    "nw": "NorthWest",
    "n": "North",
    "ne": "NorthEast",
    "w": "West",
    "c": "Center",
    "e": "East",
    "sw": "SouthWest",
    "s": "South",
    "se": "SouthEast",
}
MAX_OUTPUT_PIXELS = 16_000_000  # bigger outputs spill ImageMagick's pixel cache to disk: slow
LARGE = [(4000, 3000), (3264, 2448)]
RESIZE_SOURCES = [
    (1, 1), (2, 1), (1, 2), (4, 2), (3, 7), (7, 3), (10, 10), (99, 100), (100, 99), (101, 33),
    (640, 480), (480, 640), (1024, 768), (1, 500), (500, 1), (333, 777), (1920, 1080), *LARGE,
]  # fmt: skip
RESIZE_BOXES = [
    "1", "2", "3", "50", "99", "100", "101", "150", "200", "333", "640", "1000", "100x", "640x",
    "x1", "x50", "x99", "x100", "x480", "x1000", "1x1", "3x7", "7x3", "100x100", "200x100",
    "100x200", "150x150", "333x222", "640x480", "480x640", "1000x1000", "2000x1500",
]  # fmt: skip
FLAGGED_BOXES = ["100", "100x", "x100", "1x1", "3x7", "100x100", "200x100", "100x200", "333x222"]
PERCENTS = ["0.1", "1", "10", "25", "33.3", "33.33", "50", "50.5", "66.67", "75", "99.9", "100"]
PERCENTS += ["101", "150", "200", "1000"]
AREAS = ["1", "2", "7", "100", "1000", "10000", "307200", "1000000", "12000000"]
CROP_SOURCES = [
    (1, 1), (2, 2), (3, 7), (7, 3), (10, 10), (11, 9), (100, 100), (101, 99), (640, 480),
    (1, 500), (500, 1), *LARGE,
]  # fmt: skip
ROTATE_SOURCES = [
    (1, 1), (2, 2), (3, 7), (7, 3), (10, 10), (11, 9), (100, 100), (101, 99), (640, 480),
    (480, 640), (1, 500), (500, 1), (333, 777), (1920, 1080), *LARGE,
]  # fmt: skip
RIGHT_ANGLES = ["0", "90", "180", "270", "-90", "360", "-180", "450"]
OTHER_ANGLES = ["45", "30", "12.5", "359", "-30", "1", "0.5", "135", "-135", "89.9", "271.25"]
LARGE_ANGLES = ["45", "30", "12.5", "359"]


@dataclass(frozen=True)
class Case:
    kind: str
    source: tuple[int, int]
    geometry: str  # this server's syntax
    args: tuple[str, ...]  # the convert operators that apply it

    def command(self) -> list[str]:
        fmt = "%w %h %X %Y" if self.kind == "crop" else "%w %h"
        size = f"{self.source[0]}x{self.source[1]}"
        canvas = "xc:white" if self.kind == "resize" else "xc:"
        return [CONVERT, "-size", size, canvas, *self.args, "-format", fmt, "info:"]


def resize_geometries(width: int, height: int) -> list[str]:
    boxes = [*RESIZE_BOXES, f"{width}x{height}", f"{width}x{height * 2}", f"{width * 2}x{height}"]
    boxes += [str(width), f"x{height}", f"{width + 1}x{height}"]
    flagged = [*FLAGGED_BOXES, f"{width}x{height}", f"{width}x{height * 3}", f"x{height}"]
    flagged += [str(width), f"{width}x", f"{height}x{width}"]
    geometries = boxes + [box + flag for box in flagged for flag in "!><^"]
    geometries += [f"{p}%" for p in PERCENTS] + [f"@{a}" for a in AREAS]
    geometries += [f"@{width * height}", f"@{width * height + 1}", f"@{max(width * height - 1, 1)}"]
    return list(dict.fromkeys(geometries))


def crop_sizes(width: int, height: int) -> list[tuple[int, int]]:
    sizes = [(1, 1), (2, 2), (3, 3), (4, 3), (100, 100), (200, 100), (width, height)]
    sizes += [(width, max(height // 2, 1)), (width + 1, height + 1), (2 * width + 1, 1)]
    sizes += [(max(width - 1, 1), max(height - 1, 1)), (width // 2 + 1, height + 3)]
    return list(dict.fromkeys(sizes))


def crop_offsets(width: int, height: int) -> list[tuple[int, int, int, int]]:
    return [
        (1, 1, 0, 0),
        (2, 3, 1, 1),
        (width, height, 0, 0),
        (10, 10, width // 2, height // 2),
        (width, height, width - 1, height - 1),
        (100, 50, 3, 2),
        (5, 5, width, 0),
        (5, 5, 0, height),
        (5, 5, width + 7, height + 7),
    ]


def output_bound(width: int, height: int, geometry: str) -> float:
    """A crude upper bound on a resize's output pixels, to leave out needlessly slow rows."""
    if geometry.endswith("%"):
        return (float(geometry[:-1]) / 100) ** 2 * width * height
    if geometry.startswith("@"):
        return max(float(geometry[1:]), width * height)
    box = [float(n) if n else 0.0 for n in geometry.rstrip("!><^").split("x")]
    scale = max(max(box) / width, max(box) / height, 1.0)
    return scale * scale * width * height


def resize_cases() -> Iterator[Case]:
    for width, height in RESIZE_SOURCES:
        for geometry in resize_geometries(width, height):
            if output_bound(width, height, geometry) <= MAX_OUTPUT_PIXELS:
                yield Case("resize", (width, height), geometry, ("-resize", geometry))


def crop_cases() -> Iterator[Case]:
    for width, height in CROP_SOURCES:
        for w, h in crop_sizes(width, height):
            for name, gravity in GRAVITIES.items():
                args = ("-gravity", gravity, "-crop", f"{w}x{h}+0+0")
                yield Case("crop", (width, height), f"{name}{w}x{h}", args)
        for w, h, x, y in crop_offsets(width, height):
            geometry = f"{w}x{h}+{x}+{y}"
            yield Case("crop", (width, height), geometry, ("-crop", geometry))


def rotate_cases() -> Iterator[Case]:
    for width, height in ROTATE_SOURCES:
        large = (width, height) in LARGE
        for angle in RIGHT_ANGLES + (LARGE_ANGLES if large else OTHER_ANGLES):
            yield Case("rotate", (width, height), angle, ("-rotate", angle))


def run(case: Case) -> tuple[Case, list[int] | str | None]:
    """The case and convert's answer: numbers, None (crop outside), or "limit" to drop."""
    done = subprocess.run(case.command(), capture_output=True, text=True, check=False)
    stderr = done.stderr.strip()
    if "exceeds limit" in stderr or "resources exhausted" in stderr.lower():
        return case, "limit"
    if case.kind == "crop" and "geometry does not contain image" in stderr:
        return case, None
    # A zero-sized resize is refused with this error and leaves the image as it was.
    harmless = case.kind == "resize" and "negative or zero image size" in stderr
    if (done.returncode != 0 or stderr) and not harmless:
        raise RuntimeError(f"{case.command()} failed: {stderr}")
    return case, [int(number) for number in done.stdout.split()]


def row(case: Case, result: list[int] | None) -> dict[str, object]:
    if case.kind == "crop" and result is not None:
        width, height, x, y = result
        result = [x, y, width, height]
    return {
        "kind": case.kind,
        "source": list(case.source),
        "geometry": case.geometry,
        "expected": result,
    }


def version() -> str:
    done = subprocess.run([CONVERT, "-version"], capture_output=True, text=True, check=True)
    return done.stdout.splitlines()[0].removeprefix("Version: ")


def write(rows: list[dict[str, object]], skipped: int) -> None:
    header = {
        "generated_by": "tests/pipeline/make_geometry_table.py",
        "imagemagick": version(),
        "skipped_resource_limit": skipped,
    }
    lines = [json.dumps(header)[:-1] + ', "rows": [']
    lines += [f"  {json.dumps(r)}," for r in rows]
    lines[-1] = lines[-1].rstrip(",")
    OUT.write_text("\n".join([*lines, "]}"]) + "\n", encoding="utf-8")


def main() -> int:
    if not os.access(CONVERT, os.X_OK):
        print(f"{CONVERT} is missing: install ImageMagick 6", file=sys.stderr)
        return 1
    started = time.monotonic()
    cases = list(dict.fromkeys([*resize_cases(), *crop_cases(), *rotate_cases()]))
    # Largest sources first, so the pool does not end waiting on one slow conversion.
    order = sorted(cases, key=lambda c: -c.source[0] * c.source[1])
    with ProcessPoolExecutor() as pool:
        answers = dict(pool.map(run, order, chunksize=4))
    rows = []
    for case in cases:
        answer = answers[case]
        if not isinstance(answer, str):  # "limit": convert hit a resource limit
            rows.append(row(case, answer))
    write(rows, skipped=len(cases) - len(rows))
    elapsed = time.monotonic() - started
    print(f"{len(rows)} rows ({len(cases) - len(rows)} dropped) in {elapsed:.0f}s -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
