"""gunicorn's workers, answering their own errors as our JSON instead of HTML pages.

gunicorn answers what never reaches the app itself: a malformed request, a request line or
header over its limits, a worker stopped mid-request at the worker timeout. It writes those
pages in `Worker.handle_error`, as `text/html`. These workers let gunicorn decide the status
and log the error as it always does, capture the page it would write, and send instead the
JSON every other error has (docs/api.md §2): `{"status":"error","message":…,"code":…}`.
`gunicorn_conf` selects them (`worker_class`). Both also pace their clients: every client
socket is a `client_deadlines.PacedSocket`, so a slow client cannot hold a thread for long.

`AppLogsAccess` is gunicorn's logger without its access line: the app writes its own (JSON,
with the route and request id), and gunicorn would otherwise build its Apache-style fields for
every request only to drop them (about 6% of a cached variant's CPU time).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import select
import socket
import time
from typing import Any

from gunicorn import util  # type: ignore[import-untyped]
from gunicorn.glogging import Logger  # type: ignore[import-untyped]
from gunicorn.http.body import LengthReader  # type: ignore[import-untyped]
from gunicorn.workers.gthread import ThreadWorker  # type: ignore[import-untyped]
from gunicorn.workers.sync import SyncWorker  # type: ignore[import-untyped]

from images_server import memory
from images_server.client_deadlines import DEFAULT_GRACE, PacedSocket
from images_server.errors import BadRequest, Forbidden, HeadersTooLarge, UriTooLong
from images_server.worker_loads import WorkerLoads

# Requests one kept-alive connection may carry (NGINX's `keepalive_requests`; 1,000 there).
# Each worker accepts connections for itself, and a client's few connections stay where they
# landed: three of four on one worker leave the other core idle. Closing each after this many
# requests lets the least busy worker (the first to accept) take it again, for one TCP
# handshake a hundred requests. A request with a body is never the one that closes.
KEEPALIVE_REQUESTS = 100
# How long a thread that answered a kept-alive request waits for the next one on the same
# connection before handing it back to gunicorn's main loop: a client's next request on
# loopback comes within a fraction of a millisecond, a browser's on a page often not at all.
NEXT_REQUEST_WAIT = 0.002
# How often a worker held back from accepting (`worker_loads`) looks at the other workers again
BALANCE_RECHECK = 0.01
# How long a worker has held no connection before it may be replaced (`recycle_growth`).
RECYCLE_IDLE = 0.9
_STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3}) ")
# gunicorn's statuses for what it refuses itself, and the app's codes for them
_CODES = {
    400: BadRequest.code,
    403: Forbidden.code,
    414: UriTooLong.code,
    417: "http_error",
    431: HeadersTooLarge.code,
    501: "http_error",
}
_REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    414: "URI Too Long",
    417: "Expectation Failed",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}
log = logging.getLogger(__name__)
_MESSAGE_CHARS = 200  # gunicorn's message quotes the request: enough to recognise it


class AppLogsAccess(Logger):  # type: ignore[misc]
    """gunicorn's logger, whose access line is the app's (`observability.hooks`)."""

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        return None


class _Page:
    """Stands in for the client's socket while gunicorn writes its HTML error page, keeping
    the page instead of sending it."""

    def __init__(self) -> None:
        self.written = b""

    def gettimeout(self) -> float:
        return 0.0

    def sendall(self, data: bytes) -> None:
        self.written += data


def json_error(exc: BaseException, page: bytes) -> tuple[int, bytes]:
    """The status gunicorn chose (from its `page`) and our JSON body for it."""
    match = _STATUS_LINE.match(page)
    status = int(match.group(1)) if match else 500
    if isinstance(exc, SystemExit):
        # gunicorn's worker timeout aborts the worker (SIGABRT, then SystemExit in the request)
        status, code = 503, "service_unavailable"
        message = "the request ran past the worker timeout and was stopped; retry later"
    elif status in _CODES:
        code, message = _CODES[status], _describe(status, exc)
    else:
        status, code, message = 500, "internal_error", "internal error"
    body = json.dumps({"status": "error", "message": message, "code": code})
    return status, body.encode()


def _describe(status: int, exc: BaseException) -> str:
    detail = str(exc)[:_MESSAGE_CHARS] or _REASONS[status].lower()
    return f"{_REASONS[status].lower()}: {detail}"


def _write_json_error(client: Any, status: int, body: bytes) -> None:
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        "Cache-Control: no-store\r\n"
        + ("Retry-After: 1\r\n" if status == 503 else "")
        + f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(client, head.encode("latin-1") + body)


class _JsonErrors:
    """Mixed in before a gunicorn worker class: its `handle_error`, answered as JSON."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        page = _Page()
        super().handle_error(req, page, addr, exc)  # type: ignore[misc]
        status, body = json_error(exc, page.written)
        try:
            _write_json_error(client, status, body)
        except Exception:  # the client is gone: gunicorn ignores that alike
            self.log.debug("Failed to send error message.")  # type: ignore[attr-defined]


class _RefusesBacklogOnStop:
    """Mixed in before a gunicorn worker class: a worker told to stop (SIGTERM) answers the
    connections still waiting in the listen backlog with a JSON 503 before it exits (see
    `refuse_backlog`); a worker recycled after `max_requests` leaves them to the others."""

    stopping = False

    def handle_exit(self, sig: Any, frame: Any) -> None:
        self.stopping = True
        super().handle_exit(sig, frame)  # type: ignore[misc]


def refuse_backlog(listeners: list[Any]) -> int:
    """Accept every connection waiting on `listeners`, answer each `503 service_unavailable`
    with `Retry-After`, and close it cleanly: it would otherwise be reset when the last worker
    holding the listening socket exits. How many were answered."""
    body = json.dumps(
        {
            "status": "error",
            "message": "the server is restarting: retry in a second",
            "code": "service_unavailable",
        }
    ).encode()
    answered = 0
    for listener in listeners:
        try:
            listener.setblocking(False)
        except (OSError, AttributeError):  # closed already (gunicorn's socket wrapper: None)
            continue
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # BlockingIOError: the backlog is empty
                break
            with client:
                _answer_and_close(client, body)
            answered += 1
    if answered:
        log.info("answered %d waiting connection(s) 503 while stopping", answered)
    return answered


def _answer_and_close(client: socket.socket, body: bytes) -> None:
    """Read what the client sent (closing over unread bytes would reset the connection),
    answer, and close after the client has read the answer."""
    client.settimeout(0.5)
    try:
        with contextlib.suppress(TimeoutError):
            client.recv(65536)
        _write_json_error(client, 503, body)
        client.shutdown(socket.SHUT_WR)
        with contextlib.suppress(TimeoutError):
            while client.recv(65536):
                pass
    except OSError:  # the client is gone: nothing to answer
        pass


class JsonSyncWorker(_RefusesBacklogOnStop, _JsonErrors, SyncWorker):  # type: ignore[misc]
    """gunicorn's `sync` worker, with JSON error pages and paced client sockets (one request
    per connection: its clock starts when it is accepted)."""

    client_grace = DEFAULT_GRACE  # set from IMAGES_CLIENT_TIMEOUT by gunicorn_conf.post_fork

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        super().handle(listener, PacedSocket(client, self.client_grace), addr)


class _ListenerClosingLast:
    """A listening socket whose `close` first answers its backlog when the worker is stopping:
    gthread closes its listeners itself at the end of `run`, before `worker_exit`."""

    def __init__(self, listener: Any, worker: _RefusesBacklogOnStop) -> None:
        self._listener = listener
        self._worker = worker

    def close(self) -> None:
        if self._worker.stopping:
            refuse_backlog([self._listener])
        self._listener.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._listener, name)


class JsonThreadWorker(_RefusesBacklogOnStop, _JsonErrors, ThreadWorker):  # type: ignore[misc]
    """gunicorn's `gthread` worker, with JSON error pages and paced client sockets (each
    request on a kept-alive connection starts the clocks again), serving a connection's next
    request on the same thread when it comes within `NEXT_REQUEST_WAIT`, closing a kept-alive
    connection after `KEEPALIVE_REQUESTS` requests, and accepting only while it holds no more
    connections than the other workers (`worker_loads`, once `share_loads` was called)."""

    client_grace = DEFAULT_GRACE
    _accepting: bool  # gthread's: whether its poller watches the listening sockets
    _loads: WorkerLoads | None = None
    _load_row: int | None = None

    def share_loads(self, loads: WorkerLoads, recycle_growth: int) -> None:
        """Balance connections with the other workers through `loads` (after the fork), and be
        replaced once idle after growing by `recycle_growth` bytes (0: never)."""
        self._load_row = loads.claim(self.pid)
        self._loads = loads if self._load_row is not None else None
        self.recycle_growth = recycle_growth

    # gthread's loop accepts while `nr_conns < worker_connections`, checked at each turn
    # right after `notify`: the cap becomes "one more than the least loaded other worker".
    @property
    def worker_connections(self) -> int:
        if self._loads is None or self._load_row is None:
            return self._connection_cap
        return self._loads.limit(self._load_row, self._connection_cap)

    @worker_connections.setter
    def worker_connections(self, cap: int) -> None:
        self._connection_cap = cap

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        # Held back only so that another worker takes its share: look again soon. This worker's
        # threads may serve its connections' next requests for long stretches without its loop
        # waking up, and a connection would wait up to a second (gthread's poll) in the backlog.
        if not self._accepting and self.alive and self.nr_conns < self._connection_cap:
            timeout = min(timeout, BALANCE_RECHECK)
        elif self.recycle_growth and not self.nr_conns and self.nr != self._measured_at:
            timeout = min(timeout, RECYCLE_IDLE / 4)  # idle after work: measure on time
        super().wait_for_and_dispatch_events(timeout)

    def notify(self) -> None:
        super().notify()
        if self._loads is not None and self._load_row is not None:
            self._loads.publish(self._load_row, self.nr_conns, accepting=self.alive)
            self._recycle_if_grown(self._loads, self._load_row)

    # Recycling: renders and uploads leave a worker holding more than a fresh one (freed heap
    # it cannot return, pages of the master's it has written to); uWSGI's `reload-on-rss`,
    # done only while idle, one worker at a time, never the only one.
    recycle_growth = 0  # bytes; IMAGES_RECYCLE_GROWTH_MB, through `share_loads`
    alive: bool  # gunicorn's: the loop goes on while it is true
    _started_private: int | None = None
    _idle_since: float | None = None
    _measured_at = -1  # requests served when the memory was last measured

    def _recycle_if_grown(self, loads: WorkerLoads, row: int) -> None:
        if not self.recycle_growth or not self.alive:
            return
        if self._started_private is None:  # the loop's first turn: app loaded, nothing served
            self._started_private = memory.private_bytes() or 0
            return
        now = time.monotonic()
        if self.nr_conns:
            self._idle_since = None
            return
        if self._idle_since is None:
            self._idle_since = now
        if now - self._idle_since < RECYCLE_IDLE or self.nr == self._measured_at:
            return
        if loads.fewest_elsewhere(row) is None:  # the only worker taking connections
            self._measured_at = self.nr
            return
        if not loads.start_recycling(self.pid):
            return  # another worker is being replaced: once it is, this one may be
        private = memory.private_bytes()
        if private is None or private - self._started_private < self.recycle_growth:
            self._measured_at = self.nr  # measured again once it has served more
            loads.stop_recycling(self.pid)
            return
        self.log.info(
            "worker %s replaced: idle, %d MB of private memory, %d MB more than at its start",
            self.pid,
            private >> 20,
            (private - self._started_private) >> 20,
        )
        self.alive = False  # gunicorn ends it as after max_requests; the master forks another

    def run(self) -> None:
        listeners: list[Any] = self.sockets  # type: ignore[has-type]
        self.sockets = [_ListenerClosingLast(listener, self) for listener in listeners]
        super().run()

    def enqueue_req(self, conn: Any) -> None:
        if not isinstance(conn.sock, PacedSocket):  # a new connection
            conn.sock = PacedSocket(conn.sock, self.client_grace)
        super().enqueue_req(conn)

    def handle(self, conn: Any) -> Any:
        conn.sock.start_request()
        result = super().handle(conn)
        # The client's next request on this connection, if it comes at once, is served on this
        # thread: handing the connection back to the main loop to wait for it costs more than
        # a cached variant (a pipe write, a poller turn, a task for the pool).
        while result is True and self.alive and _next_request_within(conn, NEXT_REQUEST_WAIT):
            conn.sock.start_request()
            result = super().handle(conn)
        return result

    def handle_request(self, req: Any, conn: Any) -> bool:
        if conn.sock.requests >= KEEPALIVE_REQUESTS and not _has_body(req):
            req.must_close = True  # answered with `Connection: close`
        return bool(super().handle_request(req, conn))


def _next_request_within(conn: Any, seconds: float) -> bool:
    """Whether the kept-alive `conn` has its next request's bytes read ahead, or the client
    sends them within `seconds`."""
    if conn.parser.unreader.buf.getvalue():
        return True
    poller = select.poll()
    poller.register(conn.sock.fileno(), select.POLLIN)
    return bool(poller.poll(seconds * 1000))


def _has_body(req: Any) -> bool:
    """Whether a request carries a body, as gunicorn framed it: closing after an answer that
    did not read it all (an upload refused early) would reset the connection under the client
    still sending it."""
    reader = req.body.reader
    return not (isinstance(reader, LengthReader) and reader.length == 0)
