"""`/healthz` (the process answers) and `/readyz` (its backing services answer).

`/readyz` also checks `workers`: jobs waiting with no job worker alive to run them (none
started, or all dead) is not ready; no worker and no job waiting is ready, with a note, and so
is a worker not seen yet in the first `IMAGES_WORKER_HEARTBEAT_TIMEOUT` seconds of the app.

The storage and cache checks write a small file and remove it (a full or read-only disk fails
with its cause, `ENOSPC` or `EROFS`). A check that fails is logged with its cause when it starts
failing (or fails for another reason), and again when it recovers, not at every probe.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from images_server.db.engine import safe_url
from images_server.errors import DatabaseUnavailable, NotReady, ServiceUnavailable
from images_server.http import services
from images_server.http.errors import cause_of
from images_server.services import Services

log = logging.getLogger(__name__)

_STARTED = "images.started"  # app.extensions key: when this app was made
_DOWN = "images.not_ready"  # app.extensions key: what this process's last /readyz found down

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
    except DatabaseUnavailable as error:
        url = safe_url(svc.settings.database_url_or_default)
        log.error("metadata database %s unavailable: %s (%s)", url, error.reason, error.__cause__)
        raise ServiceUnavailable(f"metadata database: {error.reason}") from error


def _queue_and_workers_check(svc: Services) -> dict[str, Callable[[], str | None]]:
    """The `queue` and `workers` checks, reading the queue once: the second uses the count
    the first read (a hung queue then costs one timeout, not two)."""
    jobs = svc.jobs
    assert jobs is not None
    waiting: list[int] = []

    def queue() -> None:
        waiting.append(jobs.waiting())

    def workers() -> str | None:
        if not waiting:
            raise ServiceUnavailable("the job queue cannot be read (see `queue`)")
        started = float(current_app.extensions[_STARTED])
        timeout = svc.settings.worker_heartbeat_timeout
        return jobs.check_workers(timeout, started, waiting[0])

    return {"queue": queue, "workers": workers}


def _no_queue() -> None:
    raise ServiceUnavailable("no job queue (see the server log)")


def _log_changes(down: dict[str, ServiceUnavailable]) -> None:
    """Log each check that went down (or down for another reason) and each that recovered."""
    before: dict[str, str] = current_app.extensions.get(_DOWN, {})
    now = {name: re.sub(r"\d+", "#", error.message) for name, error in down.items()}
    for name, error in down.items():
        if before.get(name) != now[name]:  # numbers aside: "no job worker for 75 s" ticks
            extra = {"cause": cause_of(error)}
            log.error("not ready: %s: %s", name, error.message, extra=extra)
    for name in before.keys() - down.keys():
        log.warning("ready again: %s", name)
    current_app.extensions[_DOWN] = now


@bp.get("/readyz")
def readyz() -> Response | tuple[Response, int]:
    svc = services()
    checks: dict[str, Callable[[], str | None]] = {
        "storage": svc.storage.check,
        "cache": svc.cache.check,
        "database": lambda: _database_check(svc),
        **(
            _queue_and_workers_check(svc)
            if svc.jobs
            else {"queue": _no_queue, "workers": _no_queue}
        ),
        "rate_limit": svc.limiter.check_storage,
    }
    down: dict[str, ServiceUnavailable] = {}
    notes = {}
    for name, check in checks.items():
        try:
            note = check()
        except ServiceUnavailable as exc:
            down[name] = exc
        else:
            if note:
                notes[name] = note
    _log_changes(down)
    if down:
        names = ", ".join(down)
        body = {"status": "error", "code": NotReady.code, "message": f"unavailable: {names}"}
        return jsonify(body | {"checks": {name: exc.message for name, exc in down.items()}}), 503
    ready: dict[str, object] = {"status": "ok", "checks": {name: "ok" for name in checks}}
    return jsonify(ready | ({"notes": notes} if notes else {}))
