"""OpenTelemetry spans for the stages of a request, exported over OTLP/HTTP when asked.

Tracing is on when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is
set and `OTEL_SDK_DISABLED` is not `true`: `configure_from_env` then installs an SDK tracer
provider with a batch OTLP/HTTP exporter, once per process (after gunicorn forks, as its
export thread does not survive a fork); the other standard `OTEL_*` variables (service name,
headers, sampler, batch delay) apply. Off, no SDK is set up and `span()` hands back one
shared do-nothing context manager, so an untraced request pays a function call per stage.
Off, not even OpenTelemetry's API is imported (nor by `hooks` and `logs`, which ask for it only
when there is a span).
Tests install their own provider with `use_provider`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from time import perf_counter
from typing import TYPE_CHECKING

from flask import g, has_request_context

from images_server.observability.metrics import STAGE_SECONDS

if TYPE_CHECKING:  # OpenTelemetry's API is imported once tracing is on, not before
    from opentelemetry.trace import Span, Tracer, TracerProvider
    from opentelemetry.util.types import AttributeValue
    from werkzeug.datastructures import Headers

TRACER_NAME = "images_server"
REQUEST_ID_ATTRIBUTE = "images.request_id"
_ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
_OFF: AbstractContextManager[None] = nullcontext()

_tracer: Tracer | None = None
_configured_pid: int | None = None
_sdk_provider: TracerProvider | None = None


def enabled() -> bool:
    return _tracer is not None


def use_provider(provider: TracerProvider | None) -> None:
    """Trace into `provider` from now on (None: off). For tests and `configure_from_env`."""
    global _tracer
    _tracer = provider.get_tracer(TRACER_NAME) if provider is not None else None


def configure_from_env() -> bool:
    """Set up OTLP/HTTP export when an OTLP endpoint is configured; whether tracing is on."""
    global _configured_pid, _sdk_provider
    if _configured_pid == os.getpid():
        return enabled()
    _configured_pid = os.getpid()
    if not any(os.environ.get(name) for name in _ENDPOINT_VARS):
        return enabled()
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return enabled()
    # Imported here: the SDK and exporter cost nothing to a server that does not trace.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    named = os.environ.get("OTEL_SERVICE_NAME") or "service.name=" in os.environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    )
    resource = Resource.create({} if named else {"service.name": "images-server"})
    provider = SdkTracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    _sdk_provider = provider
    use_provider(provider)
    return True


def shutdown() -> None:
    """Export what is still batched (a gunicorn worker calls this as it exits)."""
    shutdown_method = getattr(_sdk_provider, "shutdown", None)
    if shutdown_method is not None:
        shutdown_method()


def _request_attributes(attributes: dict[str, AttributeValue]) -> dict[str, AttributeValue]:
    if has_request_context():
        request_id = g.get("request_id")
        if request_id is not None:
            attributes[REQUEST_ID_ATTRIBUTE] = request_id
    return attributes


def span(name: str, **attributes: AttributeValue) -> AbstractContextManager[object]:
    """A child span of the current one, carrying the request id; a no-op when tracing is off."""
    if _tracer is None:
        return _OFF
    return _tracer.start_as_current_span(name, attributes=_request_attributes(attributes))


def start_server_span(name: str, headers: Headers) -> Span | None:
    """The span of one HTTP request, child of an incoming `traceparent` if any (ended by the
    caller); None when tracing is off."""
    if _tracer is None:
        return None
    from opentelemetry import propagate
    from opentelemetry.trace import SpanKind

    parent = propagate.extract(headers)
    attributes = _request_attributes({})
    return _tracer.start_span(name, context=parent, kind=SpanKind.SERVER, attributes=attributes)


@contextmanager
def stage(name: str, engine: str) -> Iterator[None]:
    """Time one render stage into `images_render_stage_duration_seconds`, in a span."""
    start = perf_counter()
    with span(name, **{"images.engine": engine}):
        yield
    STAGE_SECONDS.labels(name, engine).observe(perf_counter() - start)


_ENCODE_SECONDS: ContextVar[list[float] | None] = ContextVar("images_encode_seconds", default=None)


@contextmanager
def engine_stages(engine: str) -> Iterator[None]:
    """The engine's work, in a `process` span: timed as `decode_ops`, its time less the
    `encode` stages inside it (which engines mark with `encode_stage`). libvips computes
    pixels while it encodes (it streams), so with it most of the work shows as `encode`."""
    spent: list[float] = []
    token = _ENCODE_SECONDS.set(spent)
    start = perf_counter()
    try:
        with span("process", **{"images.engine": engine}):
            yield
    finally:
        _ENCODE_SECONDS.reset(token)
    STAGE_SECONDS.labels("decode_ops", engine).observe(
        max(0.0, perf_counter() - start - sum(spent))
    )


@contextmanager
def encode_stage(engine: str) -> Iterator[None]:
    """Time an engine's encoder as the `encode` stage, in a span."""
    start = perf_counter()
    with span("encode", **{"images.engine": engine}):
        yield
    elapsed = perf_counter() - start
    STAGE_SECONDS.labels("encode", engine).observe(elapsed)
    spent = _ENCODE_SECONDS.get()
    if spent is not None:
        spent.append(elapsed)
