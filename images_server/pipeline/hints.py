"""Client hints, bucketed: `dpr/auto` and `resize/auto` rewritten into ordinary ops.

A request's hints (`Sec-CH-DPR`, else the legacy `DPR`; `Sec-CH-Width`, in physical pixels;
`Sec-CH-Viewport-Width`, in CSS pixels; `Save-Data`) are rounded UP to a few buckets before
any op sees them — DPR to 1, 1.5, 2 or 3, widths to a short list — and the ops are rewritten
with those numbers, so `resize/auto` with `Sec-CH-Width: 700` is `resize/800x>` exactly, with
its cache key, and hints cannot multiply cache entries. A width from the viewport is
bucket(bucket(viewport) * bucket(DPR)): a function of the buckets alone, so NGINX, which can
only map headers to buckets (nginx/nginx.conf), keys on exactly what decides the answer.
`Save-Data: on` lowers the default quality of a URL that uses a hint op and fixes none.
Pure: the HTTP side (http/hints.py) reads the headers and sets `Vary` from `HintedOps.vary`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from images_server.pipeline.geometry import ResizeGeometry
from images_server.pipeline.ops import Dpr, DprAuto, Op, Resize, ResizeAuto
from images_server.pipeline.plan import Plan

DPR_BUCKETS = (1.0, 1.5, 2.0, 3.0)
DEFAULT_WIDTHS = (160, 320, 480, 640, 800, 1024, 1280, 1600, 1920, 2560, 3840)
VARY_DPR = ("Sec-CH-DPR", "DPR")
VARY_WIDTH = ("Sec-CH-Width", "Sec-CH-Viewport-Width")
VARY_SAVE_DATA = ("Save-Data",)
VARY_ORDER = ("Accept", *VARY_DPR, *VARY_WIDTH, *VARY_SAVE_DATA)

_DPR_TEXT = re.compile(r"\d{1,6}(\.\d{1,20})?", re.ASCII)  # what nginx.conf's map reads too
_WIDTH_TEXT = re.compile(r"\d{1,9}", re.ASCII)


@dataclass(frozen=True)
class Hints:
    """A request's hint headers as sent (None: absent)."""

    dpr: str | None = None  # Sec-CH-DPR, else DPR
    width: str | None = None  # Sec-CH-Width
    viewport_width: str | None = None  # Sec-CH-Viewport-Width
    save_data: str | None = None  # Save-Data


@dataclass(frozen=True)
class HintedOps:
    ops: tuple[Op, ...]  # no DprAuto or ResizeAuto left
    vary: tuple[str, ...]  # the request headers the ops were made from
    hinted: bool  # a hint op was used: Save-Data may apply


def parse_dpr(text: str | None) -> float | None:
    """A DPR header's value; None when absent, malformed or zero."""
    if text is None or not _DPR_TEXT.fullmatch(text.strip()):
        return None
    value = float(text)
    return value if value > 0 else None


def parse_width(text: str | None) -> int | None:
    """A width header's value in pixels; None when absent, malformed or zero."""
    if text is None or not _WIDTH_TEXT.fullmatch(text.strip()):
        return None
    return int(text) or None


def dpr_bucket(value: float | None) -> float:
    """The smallest DPR bucket at least `value` (the largest past them; 1 without a hint)."""
    if value is None:
        return 1.0
    return next((bucket for bucket in DPR_BUCKETS if bucket >= value), DPR_BUCKETS[-1])


def width_bucket(value: int, widths: tuple[int, ...]) -> int:
    """The smallest of `widths` (ascending) at least `value`; the largest past them."""
    return next((width for width in widths if width >= value), widths[-1])


def hinted_width(hints: Hints, widths: tuple[int, ...]) -> tuple[int | None, tuple[str, ...]]:
    """`resize/auto`'s width in physical pixels (None: no hint) and the headers it read."""
    width = parse_width(hints.width)
    if width is not None:
        return width_bucket(width, widths), VARY_WIDTH
    viewport = parse_width(hints.viewport_width)
    if viewport is None:
        return None, VARY_WIDTH
    css = width_bucket(viewport, widths)
    return width_bucket(round(css * dpr_bucket(parse_dpr(hints.dpr))), widths), (
        *VARY_DPR,
        *VARY_WIDTH,
    )


def _fit_width(width: int, dpr: float) -> list[Op]:
    # The width is physical pixels already: shielded from the `dpr` in force (make_plan sets,
    # never multiplies, the factor), which applies again to the ops after it.
    return [Dpr(1.0), Resize(ResizeGeometry(width=width, flag=">")), Dpr(dpr)]


def apply_hints(
    ops: tuple[Op, ...], hints: Hints, widths: tuple[int, ...], fallback_width: int
) -> HintedOps:
    """`ops` with `dpr/auto` and `resize/auto` settled from `hints`; `fallback_width` is
    `resize/auto`'s width without width hints (0: no resize)."""
    out: list[Op] = []
    used: set[str] = set()
    dpr = 1.0
    for op in ops:
        match op:
            case DprAuto():
                dpr = dpr_bucket(parse_dpr(hints.dpr))
                used.update(VARY_DPR)
                out.append(Dpr(dpr))
            case ResizeAuto():
                width, read = hinted_width(hints, widths)
                used.update(read)
                width = width or fallback_width
                if width:
                    out.extend(_fit_width(width, dpr))
            case Dpr(factor):
                dpr = factor
                out.append(op)
            case _:
                out.append(op)
    vary = tuple(name for name in VARY_ORDER if name in used)
    return HintedOps(tuple(out), vary, hinted=bool(used))


def save_data_on(hints: Hints) -> bool:
    return (hints.save_data or "").strip().lower() == "on"


def with_save_data(plan: Plan, hints: Hints, step: int) -> tuple[Plan, bool]:
    """`plan` with its default quality lowered by `step` under `Save-Data: on`, and whether
    its answer depends on `Save-Data` (not when the URL fixes a quality)."""
    if plan.quality is not None or not step:
        return plan, False
    return (replace(plan, quality_drop=step) if save_data_on(hints) else plan), True
