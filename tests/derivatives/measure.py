"""Measure what derivatives buy: render time of two pipelines on the 12 MP sample through the
real spine (memory storage, no result cache) from the original and with derivatives, and the
extra storage per original. Run: `.venv/bin/python -m tests.derivatives.measure`."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from images_server import derivatives
from tests.derivatives.support import make_services, plan_of, render_path, store

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
PIPELINES = ("resize/800x", "resize/300x200^/crop/300x200")
RUNS = 31


def _time(run: object, runs: int = RUNS) -> tuple[float, float]:
    assert callable(run)
    run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times)


def main() -> None:
    for name in ("photo-12mp-4000x3000.jpg", "camera-iphone-8mp-3264x2448.jpg"):
        with_copies = make_services(derivatives=True)
        ref = store(with_copies, (SAMPLES / name).read_bytes())
        manifest = derivatives.build(with_copies, ref)
        without = make_services(storage=with_copies.storage)
        sizes = ", ".join(f"{lv.width}x{lv.height} {lv.size} B" for lv in manifest.levels)
        share = 100 * manifest.extra_bytes / manifest.size
        print(f"{name}: {manifest.size} B; copies {sizes}; extra {share:.1f}%")
        for path in PIPELINES:
            chosen = derivatives.choose(with_copies, ref, plan_of(path))
            source = f"{chosen.level.width}x{chosen.level.height}" if chosen else "original"
            before = _time(lambda: render_path(without, ref, path))  # noqa: B023
            after = _time(lambda: render_path(with_copies, ref, path))  # noqa: B023
            print(
                f"  {path:32} original {before[0]:6.1f} ms (min {before[1]:.1f})"
                f"  from {source:9} {after[0]:6.1f} ms (min {after[1]:.1f})"
            )


if __name__ == "__main__":
    main()
