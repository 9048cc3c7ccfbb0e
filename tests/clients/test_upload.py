"""`images_client.upload`: against the real app over HTTP, and a scripted server for retries."""

from __future__ import annotations

import email.utils
import json
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from images_client import ImagesClient, ImagesError, upload
from images_client.upload import retry_after_seconds

from images_server.app import create_app
from images_server.settings import Settings
from tests.clients.support import http_server
from tests.images import quadrant_bytes
from tests.servers import free_port

KEY = "alice-key-0123456789abcdef"


def test_an_upload_to_the_real_server_then_a_signed_url_of_it(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        engine="vips",
        secret_key=("signing-key",),
        require_signature=True,
        api_keys=(f"alice:{KEY}",),
    )
    data = quadrant_bytes(64, 48, "png")
    photo = tmp_path / "photo.png"
    photo.write_bytes(data)
    with http_server(create_app(settings)) as base_url:
        with pytest.raises(ImagesError) as refused:
            upload(base_url, data)  # no API key: 401, not retried
        assert (refused.value.status, refused.value.code) == (401, "unauthorized")
        client = ImagesClient(base_url, key="signing-key", expires_in=300, api_key=KEY)
        stored = client.upload(photo, public=False)
        assert (stored.width, stored.height, stored.format, stored.public) == (64, 48, "png", False)
        assert stored.bytes == len(data)
        again = upload(base_url, data, api_key=KEY, filename="again.png")
        assert again.hash == stored.hash
        url = client.url(stored.hash, "resize/32x32^/crop/32x32", query={"format": "webp"})
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "image/webp"


class Script:
    """The answers a scripted server gives, in order: (status, headers, body)."""

    def __init__(self, answers: list[tuple[int, dict[str, str], bytes]]) -> None:
        self.answers = answers
        self.requests: list[tuple[str, dict[str, str], bytes]] = []


@contextmanager
def scripted(script: Script) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            script.requests.append((self.path, dict(self.headers), body))
            status, headers, answer = script.answers.pop(0)
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def error(code: str) -> bytes:
    return json.dumps({"status": "error", "code": code, "message": code.replace("_", " ")}).encode()


STORED = json.dumps(
    {
        "status": "success",
        "hash": "ab" * 32,
        "width": 4,
        "height": 3,
        "format": "png",
        "bytes": 5,
        "url": "/image/" + "ab" * 32,
        "public": True,
    }
).encode()


def test_429_and_503_are_retried_with_backoff_never_before_retry_after() -> None:
    script = Script(
        [
            (503, {"Retry-After": "3"}, error("overloaded")),
            (429, {}, error("rate_limited")),
            (503, {"Retry-After": "1"}, error("database_unavailable")),
            (201, {}, STORED),
        ]
    )
    waits: list[float] = []
    with scripted(script) as base_url:
        stored = upload(base_url, b"bytes", api_key="k", public=True, sleep=waits.append)
    assert stored.hash == "ab" * 32
    assert waits == [3.0, 1.0, 2.0]  # max(backoff 0.5·2^n, Retry-After)
    assert len(script.requests) == 4
    path, headers, body = script.requests[0]
    assert path == "/upload"
    assert headers["Authorization"] == "Bearer k"
    assert headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="public"\r\n\r\ntrue\r\n' in body
    assert b'name="file"; filename="upload"' in body
    assert all(request[2] == body for request in script.requests)  # the same upload each time


def test_attempts_are_bounded() -> None:
    script = Script([(503, {}, error("overloaded"))] * 3)
    waits: list[float] = []
    with scripted(script) as base_url, pytest.raises(ImagesError) as raised:
        upload(base_url, b"x", attempts=3, backoff=0.25, sleep=waits.append)
    assert (raised.value.status, raised.value.code) == (503, "overloaded")
    assert waits == [0.25, 0.5]
    assert script.answers == []


def test_other_errors_and_long_retry_afters_are_not_retried() -> None:
    script = Script(
        [(413, {}, error("upload_too_large")), (503, {"Retry-After": "120"}, error("overloaded"))]
    )
    waits: list[float] = []
    with scripted(script) as base_url:
        with pytest.raises(ImagesError) as too_large:
            upload(base_url, b"x", sleep=waits.append)
        assert too_large.value.status == 413
        with pytest.raises(ImagesError) as busy:
            upload(base_url, b"x", max_delay=30, sleep=waits.append)
    assert (busy.value.status, busy.value.retry_after) == (503, 120.0)
    assert waits == []


def test_lost_connections_are_retried_then_reported() -> None:
    waits: list[float] = []
    base_url = f"http://127.0.0.1:{free_port()}"  # nothing listens: connection refused
    with pytest.raises(ImagesError) as raised:
        upload(base_url, b"x", attempts=3, backoff=1, max_delay=1.5, sleep=waits.append)
    assert (raised.value.status, raised.value.code) == (0, "connection_error")
    assert waits == [1.0, 1.5]  # 1, then 2 capped at max_delay


def test_retry_after_as_seconds_or_an_http_date() -> None:
    assert retry_after_seconds("7", 0) == 7.0
    date = email.utils.formatdate(1_700_000_030, usegmt=True)
    assert retry_after_seconds(date, 1_700_000_000) == 30.0
    assert retry_after_seconds(date, 1_800_000_000) == 0.0
    assert retry_after_seconds("soon", 0) is None
    assert retry_after_seconds(None, 0) is None


def test_only_http_urls() -> None:
    with pytest.raises(ValueError, match="http"):
        upload("file:///etc", b"x")
