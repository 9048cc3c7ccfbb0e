"""`maxbytes/N`: the highest quality whose output fits N bytes, by a bounded binary search.

The search runs from quality 1 up to the one the request would otherwise get (its explicit or
per-format quality, else the format's default), so a budget only ever lowers quality. It
encodes the ceiling first (a generous budget costs one encode), then quality 1 (when even that
is too large there is nothing to search), then bisects between a quality that fits and one that
does not, at most `BISECTIONS` times: at most 7 encodes in all, and the quality found is within
3 of the highest that fits (the bytes are nearly monotonic in quality; the answer always
is an encode that was measured to fit). Every encode counts against the one render deadline.

When quality 1 does not fit, the answer is `400 over_byte_budget` naming the budget and the
smallest size reached; or, with `IMAGES_MAXBYTES_RESIZE`, the pixels are shrunk by
`SHRINK` a side at a time, at most `SHRINK_STEPS` times (one encode at quality 1 each), and the
search runs at the first size that fits: at most 7 + `SHRINK_STEPS` encodes. The sizes are
computed here, so both engines shrink to the same ones; animations are never shrunk.
"""

from __future__ import annotations

from collections.abc import Callable

from images_server.engines.deadline import Deadline
from images_server.engines.quality import Chosen, Encoder, observed
from images_server.errors import OverByteBudget
from images_server.pipeline.ops import OutputFormat

BISECTIONS = 5  # 1..100 in 5 halvings: within 3 qualities of the best
SHRINK = 0.8  # each side, per step: about 0.64 of the pixels and of the bytes
SHRINK_STEPS = 4  # down to 0.8**4 = 0.41 of each side, a sixth of the pixels
FLOOR = 1

Shrinker = Callable[[int, int], Encoder]  # the pixels resized to width x height, encoded


def smaller_sizes(width: int, height: int) -> list[tuple[int, int]]:
    """The sizes a budget may shrink to, largest first, each side at least 1 pixel."""
    return [
        (max(1, round(width * SHRINK**step)), max(1, round(height * SHRINK**step)))
        for step in range(1, SHRINK_STEPS + 1)
    ]


class _Runs:
    """Encodes of one search, counted and checked against the deadline."""

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline
        self.count = 0

    def __call__(self, encode: Encoder, quality: int) -> bytes:
        data = encode(quality)
        self.count += 1
        self.deadline.check()  # every run counts against the render's one budget
        return data


def _highest(runs: _Runs, encode: Encoder, limit: int, fits: Chosen, fails: int) -> Chosen:
    """The highest quality found between `fits` (encoded, within `limit`) and `fails`
    (larger than `limit`, or one past the ceiling when not tried)."""
    low, high, best = fits.quality, fails, fits
    for _ in range(BISECTIONS):
        if high - low <= 1:
            break
        middle = (low + high) // 2
        data = runs(encode, middle)
        if len(data) <= limit:
            low, best = middle, Chosen(middle, data, runs.count)
        else:
            high = middle
    return best


def fit_bytes(
    encode: Encoder,
    size: tuple[int, int],
    limit: int,
    output_format: OutputFormat,
    deadline: Deadline,
    ceiling: int,
    shrink: Shrinker | None = None,
) -> Chosen:
    """The highest quality up to `ceiling` whose encoding of the `size` pixels fits `limit`
    bytes; with `shrink`, at the largest of `smaller_sizes` where quality 1 fits, when it does
    not at `size`. `OverByteBudget` when nothing tried fits."""
    runs = _Runs(deadline)
    data = runs(encode, ceiling)
    if len(data) <= limit:
        return _observed(Chosen(ceiling, data, runs.count), output_format, runs)
    sizes = [size, *(smaller_sizes(*size) if shrink else [])]
    smallest = (len(data), size)
    for index, (width, height) in enumerate(sizes):
        sized = encode if index == 0 or shrink is None else shrink(width, height)
        floor = data if index == 0 and ceiling == FLOOR else runs(sized, FLOOR)
        smallest = min(smallest, (len(floor), (width, height)))
        if len(floor) <= limit:
            fails = ceiling if index == 0 else ceiling + 1  # the ceiling is tried at `size` only
            best = _highest(runs, sized, limit, Chosen(FLOOR, floor, runs.count), fails)
            return _observed(best, output_format, runs)
    raise OverByteBudget(_over(limit, smallest, shrunk=shrink is not None))


def _observed(chosen: Chosen, output_format: OutputFormat, runs: _Runs) -> Chosen:
    return observed(Chosen(chosen.quality, chosen.data, runs.count), output_format, "maxbytes")


def _over(limit: int, smallest: tuple[int, tuple[int, int]], shrunk: bool) -> str:
    length, (width, height) = smallest
    where = f"{width}x{height}" + (", the smallest size tried" if shrunk else "")
    return (
        f"'maxbytes/{limit}': the output does not fit the budget of {limit} bytes even at "
        f"quality {FLOOR}: the smallest reached is {length} bytes (at {where}); ask for a "
        "smaller size, another format or a larger budget"
    )
