"""What gunicorn refuses before the app sees it is answered as the app's JSON errors too
(docs/api.md §2), never as gunicorn's HTML pages: sent over raw sockets to a real server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers import images_server
from tests.serving.wire import Reply, exchange


@pytest.fixture(scope="module", params=["1", "4"], ids=["sync", "gthread"])
def server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[str]:
    """One worker, sync (`IMAGES_THREADS=1`) or gthread: both answer in JSON."""
    root = tmp_path_factory.mktemp("gunicorn-errors")
    env = {"IMAGES_WORKERS": "1", "IMAGES_THREADS": request.param, "IMAGES_SERVE_WORKER": "0"}
    with images_server(root / "data", env) as base:
        yield base


def _is_json_error(reply: Reply, status: int, code: str) -> None:
    assert reply.status == status, reply
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["cache-control"] == "no-store"
    body = reply.json()
    assert body["status"] == "error"
    assert body["code"] == code
    assert isinstance(body["message"], str)
    assert body["message"]
    assert b"<html" not in reply.body


def test_a_request_line_over_the_limit_is_json_414(server: str) -> None:
    raw = b"GET /image/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    _is_json_error(exchange(server, raw), 414, "uri_too_long")


def test_a_header_over_the_limit_is_json_431(server: str) -> None:
    raw = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n"
    _is_json_error(exchange(server, raw), 431, "headers_too_large")


def test_too_many_headers_is_json_431(server: str) -> None:
    headers = b"".join(b"X-H%d: v\r\n" % i for i in range(150))
    raw = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n"
    _is_json_error(exchange(server, raw), 431, "headers_too_large")


@pytest.mark.parametrize(
    "raw",
    [
        b"NOT A REQUEST\r\n\r\n",
        b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
        b"G@T /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
    ids=["garbage", "version", "header-line", "method", "chunk-size"],
)
def test_a_malformed_request_is_json_400(server: str, raw: bytes) -> None:
    _is_json_error(exchange(server, raw), 400, "bad_request")


def test_the_server_serves_on_after_them(server: str) -> None:
    reply = exchange(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert reply.status == 200
    assert reply.json() == {"status": "ok"}
