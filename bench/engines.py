"""Benchmark the engines on one photo: ms per render, median of several runs, same process.

    python -m bench.engines samples/photo-12mp-4000x3000.jpg [--runs 7]

Each engine renders `resize/800x` into JPEG, WebP and AVIF through the same code the server
runs (sniff, resolve, engine.render; no cache). ImageMagick's own `convert` CLI with the
`jpeg:size` hint is timed beside them as an outside peer. Results are printed as a table
with ratios against the fastest, and written to bench/results/engines.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from images_server.engines import ENGINES, build_engine
from images_server.engines.base import Output
from images_server.formats.sniff import sniff
from images_server.pipeline.ops import OutputFormat
from images_server.pipeline.parse import parse_pipeline
from images_server.pipeline.plan import make_plan
from images_server.pipeline.steps import resolve

PIPELINE = "resize/800x"
FORMATS: tuple[OutputFormat, ...] = ("jpeg", "webp", "avif")


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the `convert` peer)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _time(action: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of `action()` over `runs`, after one warm-up."""
    action()
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), _cpu()
        action()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((_cpu() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def bench_engine(name: str, data: bytes, fmt: OutputFormat, runs: int) -> tuple[float, float]:
    engine = build_engine(name)
    info = sniff(data)
    plan = make_plan(parse_pipeline(f"{PIPELINE}/format/{fmt}", max_ops=10))
    resolved = resolve(plan.ops, info.width, info.height, 10**9)
    output = Output(fmt, plan.output_quality(fmt))
    return _time(lambda: engine.render(data, info, resolved, output), runs)


def bench_convert(path: Path, runs: int) -> tuple[float, float]:
    args = ["/usr/bin/convert", "-define", "jpeg:size=1600x1200", str(path),
            "-auto-orient", "-resize", "800x", "-strip", "-quality", "85", "jpeg:-"]  # fmt: skip

    def run() -> None:
        subprocess.run(args, capture_output=True, check=True, env={"MAGICK_THREAD_LIMIT": "1"})

    return _time(run, runs)


# VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child would report ours.
_PEAK_SCRIPT = """
import sys
from bench.engines import bench_engine
data = open(sys.argv[1], "rb").read()
bench_engine(sys.argv[2], data, sys.argv[3], 1)
status = open("/proc/self/status").read()
print(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
"""


def peak_rss_mb(name: str, path: Path, fmt: OutputFormat) -> float:
    """Peak resident memory of a fresh process rendering with engine `name`, in MB."""
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_SCRIPT, str(path), name, fmt],
        capture_output=True, text=True, check=True, cwd=Path(__file__).parents[1],
    )  # fmt: skip
    return int(done.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", type=Path)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    data = args.image.read_bytes()
    rows: list[dict[str, object]] = []
    for fmt in FORMATS:
        for name in ENGINES:
            wall, cpu = bench_engine(name, data, fmt, args.runs)
            rows.append({"peer": f"{name} engine", "format": fmt, "wall_ms": wall, "cpu_ms": cpu})
    wall, cpu = bench_convert(args.image, args.runs)
    rows.append(
        {"peer": "convert CLI (jpeg:size)", "format": "jpeg", "wall_ms": wall, "cpu_ms": cpu}
    )
    peaks = {
        f"{name} {fmt}": peak_rss_mb(name, args.image, fmt) for name in ENGINES for fmt in FORMATS
    }
    print(f"{args.image.name}, {PIPELINE}, median of {args.runs} runs")
    for fmt in FORMATS:
        best = min(float(str(r["wall_ms"])) for r in rows if r["format"] == fmt)
        for row in (r for r in rows if r["format"] == fmt):
            ratio = float(str(row["wall_ms"])) / best
            print(
                f"  {fmt:5} {row['peer']:26} {row['wall_ms']:8.1f} ms wall "
                f"{row['cpu_ms']:8.1f} ms cpu   x{ratio:.2f}"
            )
    for name, peak in peaks.items():
        print(f"  peak memory of a fresh process, {name}: {peak:.0f} MB")
    out = Path(__file__).parent / "results" / "engines.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {"image": args.image.name, "pipeline": PIPELINE, "rows": rows, "peak_mb": peaks},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
