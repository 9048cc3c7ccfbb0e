"""What an unsigned transform URL may ask for (`IMAGES_ONLY_PRESETS`, `IMAGES_ALLOWED_OPS`,
`IMAGES_ALLOWED_WIDTHS`), so pages can embed plain URLs without letting anyone render any
pipeline: presets only (imgproxy's presets-only mode), a list of ops, a list of widths (as
Next.js's `deviceSizes`). Presets are the operator's own and always allowed; a signed URL may
ask for anything. A refusal is `403 unsigned_not_allowed` saying what is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping

from images_server.errors import BadRequest, UnsignedNotAllowed
from images_server.pipeline.ops import Op, Resize
from images_server.pipeline.parse import parse_op
from images_server.pipeline.plan import make_plan
from images_server.settings import Settings


def restricted(settings: Settings) -> bool:
    return settings.only_presets or bool(settings.allowed_ops) or bool(settings.allowed_widths)


def _allowed_ops(settings: Settings) -> frozenset[str]:
    """Op names an unsigned URL may use; empty: any."""
    if settings.only_presets:
        return frozenset({"preset", *settings.allowed_ops})
    return frozenset({"preset", *settings.allowed_ops}) if settings.allowed_ops else frozenset()


def _what_is_allowed(settings: Settings, allowed: frozenset[str]) -> str:
    presets = ", ".join(sorted(settings.presets))
    parts = [f"presets ({presets})"]
    if others := sorted(allowed - {"preset"}):
        parts.append(f"the ops {', '.join(others)}")
    return " and ".join(parts)


def check_unsigned(settings: Settings, pipeline: str, query: Mapping[str, str]) -> None:
    """Refuse an unsigned transform outside the allow-lists (a malformed pipeline is left to
    the view, which answers its 400)."""
    segments = pipeline.split("/") if pipeline else []
    pairs = list(zip(segments[::2], segments[1::2], strict=False))
    if "format" in query:
        pairs.append(("format", query["format"]))
    allowed = _allowed_ops(settings)
    for name, arg in pairs:
        if allowed and name not in allowed:
            raise UnsignedNotAllowed(
                f"'{name}/{arg}': unsigned URLs may use only {_what_is_allowed(settings, allowed)}"
                "; sign the URL for anything else"
            )
    if settings.allowed_widths:
        _check_widths(settings, [(n, a) for n, a in pairs if n != "preset"])


def _check_widths(settings: Settings, pairs: list[tuple[str, str]]) -> None:
    ops: list[Op] = []
    for name, arg in pairs:
        try:
            ops.extend(parse_op(name, arg, settings.presets))
        except ValueError:
            return  # the view answers the 400
    try:
        planned = make_plan(tuple(ops)).ops
    except BadRequest:
        return
    widths = ", ".join(settings.allowed_widths)
    for op in planned:  # sizes after `dpr`, as they will be rendered
        if isinstance(op, Resize) and str(op.geometry.width) not in settings.allowed_widths:
            raise UnsignedNotAllowed(
                f"'{op.segment()}': unsigned URLs may resize only to the widths {widths}; "
                "sign the URL for any other size"
            )
