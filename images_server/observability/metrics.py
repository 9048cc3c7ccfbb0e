"""The Prometheus metrics the server keeps, and their text exposition for `/metrics`.

One set of module-level metrics per process. Under gunicorn, `PROMETHEUS_MULTIPROC_DIR` is
set before the workers import this module (`images_server.gunicorn_conf`), so prometheus-client
writes each worker's values to memory-mapped files there and `exposition()` sums every
worker's files; without it (tests, `flask run`) the plain default registry is read. Labels are
bounded: routes are Flask URL rules, never raw paths; an unmatched request is `unmatched`.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

# Requests: from a health check (~1 ms) to a large render near the timeout.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 20.0)

REQUESTS = Counter(
    "images_http_requests",
    "HTTP requests answered, by method, route (the URL rule) and status",
    ("method", "route", "status"),
)
REQUEST_SECONDS = Histogram(
    "images_http_request_duration_seconds",
    "Time from the request reaching the app to its response, by method, route and status",
    ("method", "route", "status"),
    buckets=_LATENCY_BUCKETS,
)
SERVED_BYTES = Counter(
    "images_http_response_bytes", "Response body bytes sent, by route", ("route",)
)
STAGE_SECONDS = Histogram(
    "images_render_stage_duration_seconds",
    "Time of one stage of a render: load (the original from storage), process (decode, "
    "ops and encode in the engine), by stage and engine",
    ("stage", "engine"),
    buckets=_STAGE_BUCKETS,
)
CACHE_LOOKUPS = Counter(
    "images_result_cache_lookups", "Result-cache lookups, by result: hit or miss", ("result",)
)
UPLOADED_BYTES = Counter("images_uploaded_bytes", "Bytes of images accepted by POST /upload")
ORIGINALS_STORED = Counter(
    "images_originals_stored",
    "Originals written to storage (bytes not stored before), by source: upload or external",
    ("source",),
)
QUALITY_ENCODES = Histogram(
    "images_quality_search_encodes",
    "Encoder runs of one quality search (quality/auto, maxbytes), by format and mode",
    ("format", "mode"),
    buckets=(1, 2, 3, 4, 5, 6, 7, 8, 10, 12),
)
QUALITY_CHOSEN = Histogram(
    "images_quality_chosen",
    "The quality a search chose (quality/auto, maxbytes), by format and mode",
    ("format", "mode"),
    buckets=(10, 20, 30, 40, 50, 60, 70, 80, 90, 100),
)

_CACHE_HIT = CACHE_LOOKUPS.labels("hit")
_CACHE_MISS = CACHE_LOOKUPS.labels("miss")


def count_cache_lookup(hit: bool) -> None:
    (_CACHE_HIT if hit else _CACHE_MISS).inc()


def exposition() -> bytes:
    """Every metric in the Prometheus text format: all workers' when in multiprocess mode."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)
