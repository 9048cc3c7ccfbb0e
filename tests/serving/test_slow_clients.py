"""Slow clients cannot starve the server: `images-server serve` on its defaults (as `make run`
and the Docker image start it) keeps answering normal requests while clients trickle their
headers or bodies a byte at a time, and closes those clients once they fall behind the pace
`client_deadlines` asks for. `PacedSocket` is also tested alone, on real socket pairs.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

import pytest
import requests

from images_server.client_deadlines import MIN_RATE, ClientTooSlow, PacedSocket
from tests.servers import images_server
from tests.serving.wire import address

SLOW_CLIENTS = 8  # four times what starved a sync-worker server (2 gave 1 of 12 served)


@contextmanager
def trickling(base: str, count: int, body: bool = False) -> Iterator[list[socket.socket]]:
    """`count` connections, each sending one more byte of its request every 0.5 s until the
    block ends: of its headers, or (`body`) of an upload body it promised 10 kB of."""
    stop = threading.Event()
    sockets = [socket.create_connection(address(base), timeout=5) for _ in range(count)]
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 4000 + b"\r\n\r\n"
    if body:
        head = (
            b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
            b"Content-Length: 10000\r\n\r\n"
        )
        for sock in sockets:
            sock.sendall(head)
        head = b"\x89PNG" + b"\0" * 9996

    def trickle(sock: socket.socket) -> None:
        for byte in range(len(head)):
            if stop.wait(0.5):
                return
            try:
                sock.sendall(head[byte : byte + 1])
            except OSError:  # closed by the server: what we want
                return

    threads = [threading.Thread(target=trickle, args=(sock,), daemon=True) for sock in sockets]
    for thread in threads:
        thread.start()
    try:
        yield sockets
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)
        for sock in sockets:
            sock.close()


def _normal_requests_served(base: str, image: str, count: int = 10) -> int:
    served = 0
    for index in range(count):
        url = f"{base}/healthz" if index % 2 else image
        with suppress(requests.RequestException):
            served += requests.get(url, timeout=5).status_code == 200
    return served


@pytest.mark.parametrize("body", [False, True], ids=["headers", "bodies"])
def test_slow_clients_do_not_starve_the_defaults(tmp_path: Path, samples: Path, body: bool) -> None:
    with images_server(tmp_path / "data") as base:
        with (samples / "photo-1mp-1200x900.jpg").open("rb") as file:
            image = requests.post(f"{base}/upload", files={"file": file}, timeout=30).json()
        url = f"{image['url']}/resize/200x"
        with trickling(base, SLOW_CLIENTS, body=body):
            time.sleep(1)  # every slow client is connected and sending
            assert _normal_requests_served(base, url) == 10


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):  # a reply (the app's 408, for a body), then the close
            pass
    except (TimeoutError, ConnectionResetError):
        return False
    return True


@pytest.mark.parametrize("body", [False, True], ids=["headers", "bodies"])
def test_a_client_that_falls_behind_is_closed(tmp_path: Path, body: bool) -> None:
    with images_server(tmp_path / "data", {"IMAGES_CLIENT_TIMEOUT": "2"}) as base:
        with trickling(base, 2, body=body) as sockets:
            started = time.monotonic()
            assert all(_closed_within(sock, 15) for sock in sockets)
        # 2 s of grace, plus what a few bytes earn at MIN_RATE: closed well before 15 s
        assert time.monotonic() - started < 10


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    with ExitStack() as stack:
        server, client = socket.socketpair()
        for sock in (server, client):
            stack.callback(sock.close)
        yield server, client


def test_reads_that_keep_pace_pass_through(pair: tuple[socket.socket, socket.socket]) -> None:
    server, client = pair
    paced = PacedSocket(server, grace=0.5)
    client.sendall(b"x" * 100_000)
    received = b""
    while len(received) < 100_000:
        received += paced.recv(65536)
    assert received == b"x" * 100_000


def test_a_trickled_head_runs_out_of_grace(pair: tuple[socket.socket, socket.socket]) -> None:
    server, client = pair
    paced = PacedSocket(server, grace=0.5)
    started = time.monotonic()

    def trickle() -> None:
        for _ in range(100):
            client.sendall(b"a")
            paced.recv(1)
            time.sleep(0.05)

    with pytest.raises(ClientTooSlow):
        trickle()
    assert 0.4 < time.monotonic() - started < 0.5 + 100 / MIN_RATE + 0.5


def test_a_reader_that_reads_nothing_runs_out_of_grace(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    server, _client = pair  # the client never reads
    server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    paced = PacedSocket(server, grace=0.5)
    started = time.monotonic()
    with pytest.raises(ClientTooSlow):
        paced.sendall(b"y" * 2_000_000)
    assert time.monotonic() - started < 5
    assert paced.gettimeout() is None  # the socket is left as it was found: blocking
