"""`images-server serve` for real, 2 sync workers: `/metrics` sums both workers (multiprocess
mode, a stale directory wiped at start), access lines are JSON with the request id, and spans
reach an OTLP/HTTP collector (a tiny local one) when `OTEL_EXPORTER_OTLP_ENDPOINT` is set."""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.cli.test_serve import CLI
from tests.observability.conftest import Samples, png, scrape, value
from tests.servers import free_port

WAIT = 60  # seconds: bounds on waits for a busy machine, never a measured duration


@dataclass
class Collector:
    """What the OTLP/HTTP endpoint received: (path, request) per POST."""

    url: str
    received: list[tuple[str, ExportTraceServiceRequest]] = field(default_factory=list)

    def span_attributes(self) -> dict[str, list[dict[str, str]]]:
        """Span name -> the string attributes of each span with that name."""
        spans: dict[str, list[dict[str, str]]] = {}
        for _, export in self.received:
            for resource in export.resource_spans:
                for scope in resource.scope_spans:
                    for span in scope.spans:
                        attributes = {a.key: a.value.string_value for a in span.attributes}
                        spans.setdefault(span.name, []).append(attributes)
        return spans


@pytest.fixture(scope="module")
def collector() -> Iterator[Collector]:
    received: list[tuple[str, ExportTraceServiceRequest]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            received.append((self.path, ExportTraceServiceRequest.FromString(body)))
            reply = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Collector(f"http://127.0.0.1:{server.server_address[1]}", received)
    server.shutdown()
    server.server_close()
    thread.join()


@dataclass
class Served:
    base: str
    metrics_dir: Path
    log: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, collector: Collector) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("observed")
    metrics_dir = root / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"not a metrics file")  # wiped at start, or 500
    port = free_port()
    env = os.environ | {
        "IMAGES_PORT": str(port),
        "IMAGES_DATA_DIR": str(root / "data"),
        "IMAGES_WORKERS": "2",
        "IMAGES_THREADS": "1",  # sync workers: a worker reading a body serves nobody else
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "OTEL_SERVICE_NAME": "images-server-test",
    }
    log = root / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen([CLI, "serve"], env=env, stdout=output, stderr=output)
    try:
        base = f"http://127.0.0.1:{port}"
        if not _answers(f"{base}/healthz"):
            pytest.fail(f"images-server serve did not start:\n{log.read_text()}")
        yield Served(base, metrics_dir, log)
    finally:
        process.terminate()
        process.wait(timeout=WAIT)


def _answers(url: str) -> bool:
    """Whether `url` answers 200 before the wait runs out (workers boot slowly when busy)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return True
        except requests.RequestException:  # not listening yet, or workers still booting
            time.sleep(0.2)
    return False


def _slow_upload(base: str, image: bytes) -> socket.socket:
    """A raw-body upload whose last bytes are held back: its worker waits for them."""
    port = int(base.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    head = (
        f"POST /upload HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: image/jpeg\r\n"
        f"Content-Length: {len(image)}\r\nConnection: close\r\n\r\n"
    )
    sock.sendall(head.encode() + image[:100])
    return sock


def _delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_metrics_sum_over_both_workers(served: Served, samples: Path) -> None:
    image = (samples / "photo-1mp-1200x900.jpg").read_bytes()
    before = scrape(requests.get(f"{served.base}/metrics", timeout=WAIT).text)
    sock = _slow_upload(served.base, image)
    try:
        # One worker is held reading the upload's body: the other answers all of these.
        for _ in range(5):
            assert requests.get(f"{served.base}/readyz", timeout=WAIT).status_code == 200
        sock.sendall(image[100:])
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    finally:
        sock.close()
    assert reply.startswith(b"HTTP/1.1 201"), reply[:200]

    for _ in range(2):  # whichever worker answers, it reports both
        response = requests.get(f"{served.base}/metrics", timeout=WAIT)
        assert response.status_code == 200
        after = scrape(response.text)
        delta = partial(_delta, before, after)
        readyz = {"method": "GET", "route": "/readyz", "status": "200"}
        assert delta("images_http_requests_total", **readyz) == 5
        assert delta("images_http_request_duration_seconds_count", **readyz) == 5
        upload = {"method": "POST", "route": "/upload", "status": "201"}
        assert delta("images_http_requests_total", **upload) == 1
        assert delta("images_uploaded_bytes_total") == len(image)
        assert delta("images_originals_stored_total", source="upload") == 1
    pids = {path.stem.rsplit("_", 1)[1] for path in served.metrics_dir.glob("*.db")}
    assert len(pids) >= 2
    assert not (served.metrics_dir / "counter_1.db").exists()


def test_access_lines_are_json_with_the_request_id(served: Served) -> None:
    response = requests.get(
        f"{served.base}/healthz", headers={"X-Request-ID": "served-line-1"}, timeout=WAIT
    )
    assert response.headers["X-Request-ID"] == "served-line-1"
    deadline = time.monotonic() + WAIT
    lines: list[dict[str, object]] = []
    while time.monotonic() < deadline and not lines:
        text = served.log.read_text()
        lines = [json.loads(line) for line in text.splitlines() if "served-line-1" in line]
        time.sleep(0.05)
    (line,) = lines
    assert line["logger"] == "images_server.access"
    assert (line["route"], line["status"], line["method"]) == ("/healthz", 200, "GET")
    assert "trace_id" in line  # tracing is on in this server


def test_spans_reach_the_otlp_collector(served: Served, collector: Collector) -> None:
    files = {"file": ("otlp.png", png(200), "image/png")}
    uploaded = requests.post(f"{served.base}/upload", files=files, timeout=WAIT)
    assert uploaded.status_code == 201
    rendered = requests.get(
        f"{uploaded.json()['url']}/resize/64x", headers={"X-Request-ID": "otlp-1"}, timeout=WAIT
    )
    assert rendered.status_code == 200
    expected = {"render", "cache.get", "load", "process", "cache.put"}

    def names(spans: dict[str, list[dict[str, str]]]) -> set[str]:
        return {
            name
            for name, each in spans.items()
            if any(a.get("images.request_id") == "otlp-1" for a in each)
        }

    # Spans are exported in batches as they end: the enclosing `render` after its stages.
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        spans = collector.span_attributes()
        if expected <= names(spans):
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the spans of request otlp-1 did not all reach the collector: {spans}")
    assert {path for path, _ in collector.received} == {"/v1/traces"}
    resource = collector.received[0][1].resource_spans[0].resource
    service = {a.key: a.value.string_value for a in resource.attributes}["service.name"]
    assert service == "images-server-test"


def test_without_a_multiproc_dir_one_is_made_and_removed(
    tmp_path: Path,
) -> None:
    """The default: a fresh temporary directory per start, removed when gunicorn exits."""
    port = free_port()
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PROMETHEUS_"))}
    env |= {
        "IMAGES_PORT": str(port),
        "IMAGES_DATA_DIR": str(tmp_path / "data"),
        "IMAGES_WORKERS": "1",
        "TMPDIR": str(temp),
    }
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen([CLI, "serve"], env=env, stdout=output, stderr=output)
    try:
        base = f"http://127.0.0.1:{port}"
        assert _answers(f"{base}/healthz"), log.read_text()
        (made,) = temp.glob("images-server-metrics-*")
        assert any(made.glob("*.db"))  # the worker writes its values there
        samples = scrape(requests.get(f"{base}/metrics", timeout=WAIT).text)
        healthz = {"method": "GET", "route": "/healthz", "status": "200"}
        assert value(samples, "images_http_requests_total", **healthz) >= 1
    finally:
        process.terminate()
        process.wait(timeout=WAIT)
    assert process.returncode == 0, log.read_text()
    assert not any(temp.glob("images-server-metrics-*"))
