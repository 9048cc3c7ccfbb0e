"""`PacedSocket.sendfile`: gunicorn's path for a cached variant keeps the slow-client deadline
(`client_deadlines`) that `sendall` keeps, on real loopback TCP sockets."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import BinaryIO

import pytest

from images_server.client_deadlines import MIN_RATE, ClientTooSlow, PacedSocket

SIZE = 3_000_000


@pytest.fixture(scope="module")
def data() -> bytes:
    return os.urandom(SIZE)


@pytest.fixture
def file(data: bytes) -> Iterator[BinaryIO]:
    with tempfile.TemporaryFile() as handle:
        handle.write(data)
        handle.flush()
        handle.seek(0)
        yield handle


@pytest.fixture
def tcp_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """(server side, client side), both with small buffers so a reader that stalls shows."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        client = socket.socket()
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.connect(listener.getsockname())
        server, _ = listener.accept()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    with server, client:
        yield server, client


def test_a_reader_that_keeps_pace_gets_the_range_whole(
    tcp_pair: tuple[socket.socket, socket.socket], file: BinaryIO, data: bytes
) -> None:
    server, client = tcp_pair
    received = bytearray()

    def read() -> None:
        while chunk := client.recv(65536):
            received.extend(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    paced = PacedSocket(server, grace=1)
    assert paced.sendfile(file, 10, SIZE - 10) == SIZE - 10
    server.shutdown(socket.SHUT_WR)
    reader.join(timeout=30)
    assert bytes(received) == data[10:]
    assert paced.gettimeout() is None  # left blocking, as found


def test_a_reader_that_reads_nothing_runs_out_of_time(
    tcp_pair: tuple[socket.socket, socket.socket], file: BinaryIO
) -> None:
    server, _client = tcp_pair  # never reads
    paced = PacedSocket(server, grace=0.3)
    started = time.monotonic()
    with pytest.raises(ClientTooSlow):
        paced.sendfile(file, 0, SIZE)
    # the grace, plus what the bytes the buffers took earned at MIN_RATE; never the 12 min
    # the whole file would earn
    assert time.monotonic() - started < 0.3 + paced._sent / MIN_RATE + 1
    assert paced._sent < SIZE // 10
    assert paced.gettimeout() is None
