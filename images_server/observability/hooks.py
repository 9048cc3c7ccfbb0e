"""The Flask side of observability: request id, request metrics, access log, server span.

`init_app(app)` registers three request hooks (`/metrics` itself is a blueprint, `http.metrics`,
registered with the others in `app.py`): before the request (first of all, so even a refused
request is counted) it takes or makes the request id and opens the request's server span;
after it, it sends `X-Request-ID` back, counts the request, its latency and bytes by route and
status, and writes the access line, whose client is the one rate limits count
(`http.clients.client_id`); on teardown it ends the span. Route labels are Flask URL rules and
methods outside the usual set are `OTHER`, so no client can grow the metrics' label sets.
`count_upload` counts an upload once it is admitted.
"""

from __future__ import annotations

from time import perf_counter
from typing import TYPE_CHECKING

from flask import Flask, Response, g, request
from prometheus_client.metrics import Counter, Histogram

from images_server.http import services as current_services
from images_server.http.clients import client_id
from images_server.observability import metrics, tracing
from images_server.observability.logs import REQUEST_ID_HEADER, log_access, request_id_from

if TYPE_CHECKING:
    from opentelemetry.trace import Span

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_UNMATCHED = "unmatched"
_Children = tuple[Counter, Histogram, Counter]
_children: dict[tuple[str, str, int], _Children] = {}  # bounded: routes x methods x statuses


def init_app(app: Flask) -> None:
    """Register the hooks; call before any other `before_request` hook."""
    tracing.configure_from_env()
    app.before_request(_start)
    app.after_request(_finish)
    app.teardown_request(_teardown)


def _labels(method: str, route: str, status: int) -> _Children:
    key = (method, route, status)
    children = _children.get(key)
    if children is None:
        code = str(status)
        children = (
            metrics.REQUESTS.labels(method, route, code),
            metrics.REQUEST_SECONDS.labels(method, route, code),
            metrics.SERVED_BYTES.labels(route),
        )
        _children[key] = children
    return children


def _start() -> None:
    g.request_started = perf_counter()
    g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
    rule = request.url_rule
    g.route = rule.rule if rule is not None else _UNMATCHED
    server_span = tracing.start_server_span(f"{request.method} {g.route}", request.headers)
    if server_span is not None:  # tracing is on: OpenTelemetry is imported
        from opentelemetry import context, trace

        server_span.set_attribute("http.request.method", request.method)
        server_span.set_attribute("http.route", g.route)
        server_span.set_attribute("url.path", request.path)
        g.server_span = server_span
        g.span_token = context.attach(trace.set_span_in_context(server_span))


def _finish(response: Response) -> Response:
    started: float | None = g.get("request_started")
    if started is None:  # the request context was pushed without our hook (not routed here)
        return response
    seconds = perf_counter() - started
    request_id: str = g.request_id
    route: str = g.route
    status = response.status_code
    response.headers[REQUEST_ID_HEADER] = request_id
    method = request.method if request.method in _METHODS else "OTHER"
    size = 0 if method == "HEAD" else (response.content_length or 0)
    requests, latency, served = _labels(method, route, status)
    requests.inc()
    latency.observe(seconds)
    served.inc(size)
    server_span: Span | None = g.get("server_span")
    if server_span is not None:
        server_span.set_attribute("http.response.status_code", status)
        if status >= 500:
            from opentelemetry.trace import StatusCode

            server_span.set_status(StatusCode.ERROR)
    log_access(
        method=request.method[:16],
        route=route,
        path=request.path,
        status=status,
        duration_ms=round(seconds * 1000, 3),
        bytes=size,
        request_id=request_id,
        client=_client(),
    )
    return response


def _client() -> str:
    """The client rate limits count: the peer's address (or the trusted `X-Forwarded-For`
    entry), an IPv6 one by its /64."""
    return client_id(request, current_services().settings.trusted_proxies)


def _teardown(_: BaseException | None) -> None:
    server_span: Span | None = g.pop("server_span", None)
    if server_span is not None:
        from opentelemetry import context

        server_span.end()
        context.detach(g.pop("span_token"))


def count_upload(size: int, new: bool) -> None:
    """Count an accepted upload's bytes and, when its bytes were not stored before, a new
    original."""
    metrics.UPLOADED_BYTES.inc(size)
    if new:
        metrics.ORIGINALS_STORED.labels("upload").inc()
