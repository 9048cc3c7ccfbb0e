"""Client hints on the HTTP side (docs/api.md §3): the headers read, the headers sent.

With `IMAGES_CLIENT_HINTS=true`, image responses ask for the hints (`Accept-CH`) and carry
the `Permissions-Policy` that lets a document on this origin have them; a page on another
origin must send its own, naming this one (README "Client Hints"): browsers read both only
on a page, so these matter when an image is opened directly. The pipeline's hint ops are
settled by the pure `pipeline.hints` from what `request_hints` reads here.
"""

from __future__ import annotations

from flask import Request

from images_server.pipeline.hints import (
    VARY_SAVE_DATA,
    Hints,
    apply_hints,
    with_save_data,
)
from images_server.pipeline.ops import Op
from images_server.pipeline.plan import Plan, make_plan
from images_server.settings import Settings

HINT_HEADERS = {
    "Accept-CH": "Sec-CH-DPR, Sec-CH-Width, Sec-CH-Viewport-Width",
    "Permissions-Policy": "ch-dpr=(self), ch-width=(self), ch-viewport-width=(self)",
}


def request_hints(request: Request) -> Hints:
    headers = request.headers
    return Hints(
        dpr=headers.get("Sec-CH-DPR") or headers.get("DPR"),
        width=headers.get("Sec-CH-Width"),
        viewport_width=headers.get("Sec-CH-Viewport-Width"),
        save_data=headers.get("Save-Data"),
    )


def hinted_plan(
    request: Request, settings: Settings, ops: tuple[Op, ...]
) -> tuple[Plan, tuple[str, ...]]:
    """The plan of `ops` with its hint ops settled, and the hint headers it was made from."""
    hints = request_hints(request)
    hinted = apply_hints(
        ops, hints, settings.client_hints_widths, settings.client_hints_fallback_width
    )
    plan = make_plan(hinted.ops)
    if not hinted.hinted:
        return plan, hinted.vary
    plan, depends = with_save_data(plan, hints, settings.save_data_quality_step)
    return plan, hinted.vary + (VARY_SAVE_DATA if depends else ())
