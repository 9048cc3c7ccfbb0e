"""Render every error once, as the JSON of docs/api.md §2, with the right status.

`ImagesError`s carry their own status and code; Flask/werkzeug errors (unknown route, wrong
method, body over the size limit) are mapped to the same shape; anything unexpected is
logged with its trace and answered with a plain 500, never a trace. A metadata database that
cannot be reached (connection refused, timed out, locked, pool exhausted) is a 503
`database_unavailable`, raised as such by the database's engine (`db.engine`).

Every 503 (a backing service down or hanging, a render past its deadline, `/readyz` not
ready) carries `Retry-After`: the error's own when it has one (`retry_after`, as a 429 does),
else `RETRY_AFTER_503` (5 s): the outage is ours and may be brief, so a client should come back
soon, not at once and not never.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from gunicorn.http.errors import (  # type: ignore[import-untyped]
    ChunkMissingTerminator,
    InvalidChunkExtension,
    InvalidChunkSize,
)
from werkzeug.exceptions import HTTPException

from images_server.client_deadlines import ClientTooSlow
from images_server.errors import FacesPending, ImagesError, Overloaded, RequestTimeout

log = logging.getLogger(__name__)

RETRY_AFTER_503 = 5  # seconds

_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "upload_too_large",
    415: "unsupported_format",
}


def cause_of(exc: BaseException) -> str | None:
    """What an error was raised from, for the log line (never for the client)."""
    cause = exc.__cause__
    return f"{type(cause).__name__}: {cause}" if cause is not None else None


def error_response(status: int, code: str, message: str) -> Response:
    response = jsonify(status="error", message=message, code=code)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _images_error(exc: ImagesError) -> Response:
    if exc.status >= 500:  # not the client's fault: say why, for whoever runs the server
        reason = cause_of(exc)
        # 503 is ours (a backing service, a render); 502/504 an outside source a client named
        # but shedding load (`overloaded`) or waiting for the worker to find faces
        # (`faces_pending`) is the server working as meant: no error per request
        level = logging.ERROR if exc.status == 503 else logging.WARNING
        if isinstance(exc, Overloaded | FacesPending):
            level = logging.INFO
        log.log(level, "%s %s: %s", exc.status, exc.code, exc.message, extra={"cause": reason})
    response = error_response(exc.status, exc.code, exc.message)
    retry_after = getattr(exc, "retry_after", None)  # RateLimited, Overloaded, RenderTimeout
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    code = _HTTP_CODES.get(status, "http_error")
    message = "not found" if status == 404 else (exc.description or exc.name).rstrip(".")
    if status == 413:
        message = "the upload is larger than the upload limit"
    response = error_response(status, code, message)
    if status == 405 and exc.response is None:
        allowed = getattr(exc, "valid_methods", None)
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)
    return response


def _malformed_body(exc: Exception) -> Response:
    """A chunked body gunicorn cannot parse, found while the app reads it: the client's fault."""
    return error_response(400, "bad_request", f"malformed request body: {str(exc)[:200]}")


def _client_too_slow(exc: Exception) -> Response:
    """A body that did not keep pace (`client_deadlines`): the connection closes after this."""
    return _images_error(RequestTimeout(f"{RequestTimeout.default_message} ({exc})"))


def _unexpected(exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal_error", "internal error")


def _retry_after(response: Response) -> Response:
    if response.status_code == 503 and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = str(RETRY_AFTER_503)
    return response


def register_error_handlers(app: Flask) -> None:
    app.after_request(_retry_after)  # every 503, however it was made (e.g. /readyz)
    app.register_error_handler(ImagesError, _images_error)
    app.register_error_handler(HTTPException, _http_error)
    for body_error in (InvalidChunkSize, ChunkMissingTerminator, InvalidChunkExtension):
        app.register_error_handler(body_error, _malformed_body)
    app.register_error_handler(ClientTooSlow, _client_too_slow)
    app.register_error_handler(Exception, _unexpected)
