"""JSON log lines tied to their request: the request id, the trace id, the access log.

`JsonFormatter` writes one JSON object a line with time, level, logger and message, the
request id of the request being served (`g.request_id`), the current trace and span ids when
tracing is on, any `extra=` fields, and the exception's trace. The request id is the incoming
`X-Request-ID` when it is 1 to 128 characters of `[A-Za-z0-9._-]` (so a proxy's id carries
through), else a fresh uuid4 hex. `log_access` writes the access line for one response.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import secrets
import sys
import time
from typing import Any

from flask import g, has_request_context

ACCESS_LOGGER = "images_server.access"
REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
# Attributes every LogRecord has: anything else on a record came from `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}

access_log = logging.getLogger(ACCESS_LOGGER)
CHATTY_LIBRARIES = ("pyvips", "alembic", "huey")


def request_id_from(header: str | None) -> str:
    """The incoming id when it is safe to log and echo, else a new one."""
    if header is not None and _VALID_REQUEST_ID.fullmatch(header):
        return header
    return secrets.token_hex(16)  # 32 hex digits, as a uuid4's (without building one)


class JsonFormatter(logging.Formatter):
    """One JSON object a line; see the module docstring for its fields."""

    def format(self, record: logging.LogRecord) -> str:
        extras = {key: value for key, value in record.__dict__.items() if key not in _STANDARD}
        entry = _entry(record.created, record.levelname, record.name, record.getMessage(), extras)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


def _entry(
    created: float, level: str, logger: str, message: str, extras: dict[str, Any]
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
        + f".{int((created - int(created)) * 1000):03d}Z",
        "level": level.lower(),
        "logger": logger,
        "message": message,
    }
    if has_request_context() and "request_id" not in extras:
        request_id = g.get("request_id")
        if request_id is not None:
            entry["request_id"] = request_id
    trace = sys.modules.get("opentelemetry.trace")  # no span without it: tracing is off
    context = trace.get_current_span().get_span_context() if trace is not None else None
    if context is not None and context.is_valid:
        entry["trace_id"] = format(context.trace_id, "032x")
        entry["span_id"] = format(context.span_id, "016x")
    entry.update(extras)
    return entry


def log_access(**fields: object) -> None:
    """The access line for one response (method, route, path, status, ...), at INFO.

    Written straight to the access stream when it is the one JSON stream `logging_config`
    sets up (the same line, without a `LogRecord`: a tenth of a cached variant's CPU time went
    to the logging machinery); through `logging` whenever anything else listens."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    message = f"{fields['method']} {fields['path']} {fields['status']}"
    handler = _plain_json_stream()
    if handler is None:
        access_log.info("%s", message, extra=fields)
        return
    line = json.dumps(_entry(time.time(), "INFO", ACCESS_LOGGER, message, fields), default=str)
    with handler.lock or contextlib.nullcontext():
        try:
            handler.stream.write(line + handler.terminator)
            handler.flush()
        except Exception:  # as StreamHandler.emit: reported on stderr, never raised
            handler.handleError(
                access_log.makeRecord(ACCESS_LOGGER, logging.INFO, "", 0, message, (), None)
            )


def _plain_json_stream() -> logging.StreamHandler[Any] | None:
    """The access logger's only handler when it is a filterless JSON stream taking INFO."""
    handlers = access_log.handlers
    if len(handlers) != 1 or access_log.filters or access_log.propagate:
        return None
    handler = handlers[0]
    if (
        type(handler) is not logging.StreamHandler
        or type(handler.formatter) is not JsonFormatter
        or handler.filters
        or handler.level > logging.INFO
    ):
        return None
    return handler


def logging_config(level: str = "info") -> dict[str, Any]:
    """A `logging.config.dictConfig` for JSON lines: errors (the app's and gunicorn's) on
    stderr, the app's access log on stdout; gunicorn's own access log is off.

    Libraries that narrate routine work at INFO are held to warnings unless `level` is
    `debug`: libvips (through pyvips) logs 8 to 14 lines per render, Alembic its plugins and
    dialect on every process start, huey every task run. Their warnings and errors still
    show, and the app logs what a person needs (a migration, a worker's start) itself.
    """

    def stream(name: str) -> dict[str, str]:
        return {"class": "logging.StreamHandler", "formatter": "json", "stream": f"ext://{name}"}

    level = level.upper()
    chatter = level if level == "DEBUG" else "WARNING"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {"errors": stream("sys.stderr"), "access": stream("sys.stdout")},
        "root": {"level": level, "handlers": ["errors"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": ["errors"], "propagate": False},
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
            ACCESS_LOGGER: {"level": "INFO", "handlers": ["access"], "propagate": False},
            **{name: {"level": chatter} for name in CHATTY_LIBRARIES},
        },
    }
