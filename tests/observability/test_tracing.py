"""Spans from an in-memory exporter: those of one render (names, nesting, the request id on
each, the trace id in the access log line, so logs and traces tie together), of a cache hit,
of an `/external` fetch, and an incoming `traceparent` honoured."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from images_server.app import create_app
from images_server.observability import tracing
from images_server.observability.logs import ACCESS_LOGGER, JsonFormatter
from images_server.settings import Settings
from tests.observability.conftest import metrics_of, png, upload, value
from tests.origin import Origin, serving

ROUTE = "GET /image/<hash_>/<pipeline:pipeline>"


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use_provider(provider)
    yield exporter
    tracing.use_provider(None)
    provider.shutdown()


def _by_name(spans: tuple[ReadableSpan, ...]) -> dict[str, ReadableSpan]:
    named = {span.name: span for span in spans}
    assert len(named) == len(spans), [span.name for span in spans]
    return named


def _parent(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def _id(span: ReadableSpan) -> int:
    assert span.context is not None
    return int(span.context.span_id)


def test_the_spans_of_one_render(obs_client: FlaskClient, exporter: InMemorySpanExporter) -> None:
    hash_ = upload(obs_client, png(100))
    exporter.clear()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger(ACCESS_LOGGER)
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        response = obs_client.get(
            f"/image/{hash_}/resize/40x/format/webp", headers={"X-Request-ID": "trace-me-1"}
        )
    finally:
        access.removeHandler(handler)
        access.setLevel(logging.NOTSET)
    assert response.status_code == 200

    spans = _by_name(exporter.get_finished_spans())
    assert set(spans) == {ROUTE, "render", "cache.get", "load", "process", "encode", "cache.put"}
    assert spans["encode"].parent is not None
    assert spans["encode"].parent.span_id == spans["process"].context.span_id
    server = spans[ROUTE]
    assert server.kind is SpanKind.SERVER
    assert server.parent is None
    assert _parent(spans["render"]) == _id(server)
    for child in ("cache.get", "load", "process", "cache.put"):
        assert _parent(spans[child]) == _id(spans["render"]), child
    assert {span.context.trace_id for span in spans.values() if span.context} == {
        server.context.trace_id if server.context else 0
    }
    for span in spans.values():
        assert span.attributes is not None
        assert span.attributes["images.request_id"] == "trace-me-1", span.name
    assert server.attributes is not None
    assert server.attributes["http.route"] == "/image/<hash_>/<pipeline:pipeline>"
    assert server.attributes["http.response.status_code"] == 200
    assert spans["process"].attributes is not None
    assert spans["process"].attributes["images.engine"] == "vips"
    assert spans["render"].attributes is not None
    assert spans["render"].attributes["images.hash"] == hash_
    # In order: the cache is asked, the original loaded, rendered, then cached.
    order = sorted(
        ("cache.get", "load", "process", "cache.put"), key=lambda n: spans[n].start_time or 0
    )
    assert order == ["cache.get", "load", "process", "cache.put"]

    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert server.context is not None
    assert line["trace_id"] == format(server.context.trace_id, "032x")
    assert line["request_id"] == "trace-me-1"


def test_a_cache_hit_renders_nothing(
    obs_client: FlaskClient, exporter: InMemorySpanExporter
) -> None:
    hash_ = upload(obs_client, png(101))
    obs_client.get(f"/image/{hash_}/resize/41x")
    exporter.clear()
    assert obs_client.get(f"/image/{hash_}/resize/41x").status_code == 200
    assert set(_by_name(exporter.get_finished_spans())) == {ROUTE, "render", "cache.get"}


def test_an_incoming_traceparent_is_the_parent(
    obs_client: FlaskClient, exporter: InMemorySpanExporter
) -> None:
    trace_id, parent_id = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
    obs_client.get("/healthz", headers={"traceparent": f"00-{trace_id}-{parent_id}-01"})
    (server,) = exporter.get_finished_spans()
    assert server.context is not None
    assert format(server.context.trace_id, "032x") == trace_id
    assert server.parent is not None
    assert format(server.parent.span_id, "016x") == parent_id


def test_off_by_default_a_span_is_a_shared_no_op(obs_client: FlaskClient) -> None:
    assert not tracing.enabled()
    with tracing.span("anything") as span:
        assert span is None  # the shared no-op: no SDK, no span object


def test_an_external_render_fetches_stores_and_counts(
    tmp_path: Path, exporter: InMemorySpanExporter
) -> None:
    body = png(102)
    with serving(Origin(routes={"/cat.png": (200, "image/png", body)})) as origin:
        settings = Settings(
            data_dir=tmp_path / "data",
            engine="vips",
            external_allow_hosts=(f"127.0.0.1:{origin.port}",),
        )
        with create_app(settings).test_client() as client:
            before = metrics_of(client)
            exporter.clear()
            query = {"url": origin.url("/cat.png"), "operations": "resize/16x"}
            response = client.get("/external", query_string=query)
            assert response.status_code == 200
            spans = exporter.get_finished_spans()
            after = metrics_of(client)
    names = [span.name for span in spans]
    assert {"fetch", "store", "load", "process"} <= set(names)
    assert names.count("render") == 2  # tried before the fetch (not stored yet), then after
    server = next(span for span in spans if span.name == "GET /external")
    for name in ("fetch", "store"):
        (span,) = (span for span in spans if span.name == name)
        assert _parent(span) == _id(server)
    stored = "images_originals_stored_total"
    assert value(after, stored, source="external") - value(before, stored, source="external") == 1


def test_an_upload_is_ingested_and_stored_in_spans_of_its_request(
    obs_client: FlaskClient, exporter: InMemorySpanExporter
) -> None:
    hash_ = upload(obs_client, png(73))
    spans = _by_name(exporter.get_finished_spans())
    store, ingest, server = spans["store"], spans["ingest"], spans["POST /upload"]
    assert _parent(ingest) == _id(server)  # checks, decode, metadata, then the store
    assert _parent(store) == _id(ingest)
    assert store.attributes is not None
    assert store.attributes["images.hash"] == hash_
