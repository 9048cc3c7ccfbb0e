"""Deadlines on a client's bytes, so a slow client holds a server thread for seconds, not forever.

gunicorn reads a request's head and body, and writes the response, with blocking calls and no
deadline: one client sending its headers a byte at a time (or reading the response as slowly)
holds the thread serving it for as long as it likes, and a few such clients starve a worker.
`PacedSocket` wraps each client socket (`images_server.gunicorn_workers`): the request must
arrive within `grace` seconds plus the time its bytes take at `min_rate` bytes a second,
counted from the start of the request, and the response likewise from its first byte. Past
either, the read or write raises `ClientTooSlow` and the connection is closed. A normal client
never comes near it (a 25 MB upload at 4 KiB/s gets almost two hours); a client that sends
nothing costs no thread at all (gunicorn's gthread worker hands idle connections back to its
poller). Behind NGINX, which buffers whole requests, the deadlines never bind.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import time
from typing import Any

from gunicorn.http.errors import NoMoreData  # type: ignore[import-untyped]

DEFAULT_GRACE = 10.0  # seconds: the request head, and the first bytes of a body
MIN_RATE = 4096  # bytes a second a client must keep up beyond the grace, either way

log = logging.getLogger(__name__)


class ClientTooSlow(NoMoreData):  # type: ignore[misc]
    """The client did not keep pace: gunicorn closes the connection quietly, as for a client
    that went away; inside the app it is answered 408."""

    def __init__(self, what: str) -> None:
        super().__init__(b"")
        self.what = what

    def __str__(self) -> str:
        return f"client too slow: {self.what}"


class PacedSocket:
    """A client socket whose reads and writes must keep pace (see the module docstring)."""

    def __init__(self, sock: socket.socket, grace: float = DEFAULT_GRACE) -> None:
        self._sock = sock
        self._grace = grace
        self.requests = 0  # started on this connection (`start_request`)
        self._start_clocks()

    def start_request(self) -> None:
        """A new request on this connection: both clocks start again."""
        self.requests += 1
        self._start_clocks()

    def _start_clocks(self) -> None:
        self._received_since = time.monotonic()
        self._received = 0
        self._sent_since: float | None = None
        self._sent = 0

    def recv(self, size: int) -> bytes:
        budget = self._received_since + self._grace + self._received / MIN_RATE
        data = self._within(budget, "the request", self._sock.recv, size)
        self._received += len(data)
        return bytes(data)

    def sendall(self, data: bytes) -> None:
        if self._sent_since is None:
            self._sent_since = time.monotonic()
        view = memoryview(data)
        while view:
            budget = self._sent_since + self._grace + self._sent / MIN_RATE
            sent = int(self._within(budget, "the response", self._sock.send, view))
            self._sent += sent
            view = view[sent:]

    def send(self, data: bytes) -> int:
        self.sendall(data)
        return len(data)

    def sendfile(self, file: Any, offset: int = 0, count: int | None = None) -> int:
        """`socket.sendfile`, paced like `sendall`: gunicorn's path for a `wsgi.file_wrapper`
        body (a cached variant), whose bytes the kernel copies from the file."""
        if self._sent_since is None:
            self._sent_since = time.monotonic()
        fd = file.fileno()
        end = os.fstat(fd).st_size if count is None else offset + count
        position = offset
        while position < end:
            budget = self._sent_since + self._grace + self._sent / MIN_RATE
            part = (fd, position, end - position)
            sent = int(self._within(budget, "the response", self._sendfile_once, part))
            if not sent:
                break  # the file ended early
            self._sent += sent
            position += sent
        return position - offset

    def _sendfile_once(self, part: tuple[int, int, int]) -> int:
        """One `sendfile(2)` of what the socket takes now, waiting at most its timeout."""
        fd, offset, count = part
        while True:
            try:
                return os.sendfile(self._sock.fileno(), fd, offset, count)
            except BlockingIOError:  # full: the socket has a timeout, so it is non-blocking
                poller = select.poll()
                poller.register(self._sock, select.POLLOUT)
                timeout = self._sock.gettimeout()
                if not poller.poll(None if timeout is None else timeout * 1000):
                    raise TimeoutError from None

    def _within(self, budget: float, what: str, call: Any, arg: Any) -> Any:
        remaining = budget - time.monotonic()
        if remaining <= 0:
            raise self._too_slow(what)
        prior = self._sock.gettimeout()
        self._sock.settimeout(remaining if prior is None else min(prior, remaining))
        try:
            return call(arg)
        except TimeoutError:
            if prior is not None and prior < remaining:
                raise  # the caller's own, shorter timeout: theirs to handle
            raise self._too_slow(what) from None
        finally:
            self._sock.settimeout(prior)

    def _too_slow(self, what: str) -> ClientTooSlow:
        peer = _peer(self._sock)
        log.info("closed a connection from %s: %s did not keep pace", peer, what)
        return ClientTooSlow(f"{what} did not keep pace")

    def __getattr__(self, name: str) -> Any:  # fileno, setblocking, close, shutdown, ...
        return getattr(self._sock, name)


def _peer(sock: socket.socket) -> str:
    try:
        peer = sock.getpeername()
    except OSError:
        return "a client"
    return str(peer[0]) if isinstance(peer, tuple) else "a local client"
