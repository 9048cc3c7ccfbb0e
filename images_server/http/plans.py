"""From a request to a `Plan`: path ops, `?size=` and `?format=`, and `format/auto` settled.

`format/auto` is settled here, from `Accept`, into one of a few buckets — a format of
`IMAGES_AUTO_FORMATS` (AVIF, WebP by default; JPEG XL when listed) or the source's format —
before any cache key is made, so odd `Accept` headers cannot multiply cache entries
(`pipeline.negotiation`: explicit entries only, q-values rank them, the list's order breaks
a tie, `q=0` refuses).
Client hints are bucketed the same way, when they are on (http/hints.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Request

from images_server.errors import InvalidPipeline
from images_server.http.hints import hinted_plan
from images_server.pipeline.negotiation import negotiate as negotiate
from images_server.pipeline.ops import Op
from images_server.pipeline.parse import parse_op, parse_pipeline
from images_server.pipeline.plan import Plan, make_plan
from images_server.settings import Settings

_QUERY_OPS = {"size": "preset", "format": "format"}


@dataclass(frozen=True)
class RequestPlan:
    plan: Plan
    negotiated: bool  # the response depends on Accept: send `Vary: Accept`
    vary: tuple[str, ...] = ()  # the client-hint headers it depends on (http/hints.py)


def _query_ops(request: Request, settings: Settings) -> list[Op]:
    """`?size=` then `?format=`, applied after the path's ops."""
    ops: list[Op] = []
    for param, op_name in _QUERY_OPS.items():
        value = request.args.get(param)
        if value is None:
            continue
        try:
            ops.extend(parse_op(op_name, value, settings.presets))
        except ValueError as exc:
            raise InvalidPipeline(f"'{param}={value}': {exc}") from exc
    return ops


def plan_request(request: Request, settings: Settings, path: str) -> RequestPlan:
    ops = (
        *parse_pipeline(path, settings.max_ops, settings.presets),
        *_query_ops(request, settings),
    )
    plan, vary = (
        hinted_plan(request, settings, ops) if settings.client_hints else (make_plan(ops), ())
    )
    if plan.format != "auto":
        return RequestPlan(plan, negotiated=False, vary=vary)
    chosen = negotiate(request.accept_mimetypes, settings.auto_formats)
    negotiated = plan.with_format(chosen)
    return RequestPlan(negotiated, negotiated=True, vary=vary)
