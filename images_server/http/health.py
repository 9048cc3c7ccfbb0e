"""`/healthz` (the process answers) and `/readyz` (its backing services answer).

`/readyz` also checks `workers`: jobs waiting with no job worker alive to run them (none
started, or all dead) is not ready; no worker and no job waiting is ready, with a note, and so
is a worker not seen yet in the first `IMAGES_WORKER_HEARTBEAT_TIMEOUT` seconds of the app.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from images_server.db.engine import database_error, safe_url
from images_server.errors import ServiceUnavailable
from images_server.http import services
from images_server.jobs.queue import check_queue, check_workers
from images_server.services import Services

log = logging.getLogger(__name__)

_STARTED = "images.started"  # app.extensions key: when this app was made

bp = Blueprint("health", __name__)
bp.record_once(lambda state: state.app.extensions.setdefault(_STARTED, time.time()))


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


def _database_check(svc: Services) -> None:
    database = svc.require_database()
    try:
        with database.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        reason = database_error(error)
        url = safe_url(svc.settings.database_url_or_default)
        log.error("metadata database %s unavailable: %s (%s)", url, reason, error)
        raise ServiceUnavailable(f"metadata database: {reason}") from error


def _queue_check(svc: Services) -> None:
    if svc.jobs is None:
        raise ServiceUnavailable("no job queue (see the server log)")
    check_queue(svc.jobs.huey)


def _workers_check(svc: Services) -> str | None:
    if svc.jobs is None:
        raise ServiceUnavailable("no job queue (see the server log)")
    started = float(current_app.extensions[_STARTED])
    return check_workers(svc.jobs.huey, svc.settings.worker_heartbeat_timeout, started)


@bp.get("/readyz")
def readyz() -> Response | tuple[Response, int]:
    svc = services()
    checks: dict[str, Callable[[], str | None]] = {
        "storage": svc.storage.check,
        "cache": svc.cache.check,
        "database": lambda: _database_check(svc),
        "queue": lambda: _queue_check(svc),
        "workers": lambda: _workers_check(svc),
        "rate_limit": svc.limiter.check_storage,
    }
    down = {}
    notes = {}
    for name, check in checks.items():
        try:
            note = check()
        except ServiceUnavailable as exc:
            down[name] = exc.message
        else:
            if note:
                notes[name] = note
    if down:
        names = ", ".join(down)
        body = {"status": "error", "code": "not_ready", "message": f"unavailable: {names}"}
        return jsonify(body | {"checks": down}), 503
    ready: dict[str, object] = {"status": "ok", "checks": {name: "ok" for name in checks}}
    return jsonify(ready | ({"notes": notes} if notes else {}))
