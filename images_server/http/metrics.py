"""`GET /metrics`: every metric in the Prometheus text format (all workers' under gunicorn)."""

from __future__ import annotations

from flask import Blueprint, Response

from images_server.observability.metrics import CONTENT_TYPE, exposition

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    response = Response(exposition(), content_type=CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response
