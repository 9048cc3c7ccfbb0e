"""`/healthz` (the process answers) and `/readyz` (its backing services answer)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from images_server.errors import ServiceUnavailable
from images_server.http import services
from images_server.jobs.queue import check_queue
from images_server.services import Services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


def _database_check(svc: Services) -> None:
    database = svc.require_database()
    try:
        with database.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        raise ServiceUnavailable(f"metadata database: {type(error).__name__}") from error


def _queue_check(svc: Services) -> None:
    if svc.jobs is None:
        raise ServiceUnavailable("no job queue (see the server log)")
    check_queue(svc.jobs.huey)


@bp.get("/readyz")
def readyz() -> Response | tuple[Response, int]:
    svc = services()
    checks = {
        "storage": svc.storage.check,
        "cache": svc.cache.check,
        "database": lambda: _database_check(svc),
        "queue": lambda: _queue_check(svc),
        "rate_limit": svc.limiter.check_storage,
    }
    down = {}
    for name, check in checks.items():
        try:
            check()
        except ServiceUnavailable as exc:
            down[name] = exc.message
    if down:
        names = ", ".join(down)
        body = {"status": "error", "code": "not_ready", "message": f"unavailable: {names}"}
        return jsonify(body | {"checks": down}), 503
    return jsonify(status="ok", checks={name: "ok" for name in checks})
