"""Warm hits through gunicorn itself (no NGINX): the cache file, sent whole by `sendfile(2)`,
with the headers, 304 and HEAD of a rendered variant, on kept-alive connections.

The app runs with `IMAGES_ACCEL_REDIRECT` set, so these also show that a request NGINX did
not mark (`X-Images-Accel`) always gets the bytes, never a redirect it could not follow.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import pyvips
import requests

from images_server.gunicorn_workers import (
    KEEPALIVE_REQUESTS,
    NEXT_REQUEST_WAIT,
    _next_request_within,
)
from tests.images import quadrant_bytes
from tests.warm_hits.conftest import AUTH, Stack

HEADERS = ("Content-Type", "Content-Length", "ETag", "Cache-Control", "X-Content-Type-Options")


def test_a_hit_is_the_cache_file_with_the_headers_of_its_render(stack: Stack) -> None:
    hash_ = stack.upload()
    url = f"{stack.app.base}/image/{hash_}/resize/30x/format/webp"
    miss = requests.get(url, timeout=30)
    hit = requests.get(url, timeout=30)
    assert miss.status_code == hit.status_code == 200
    assert hit.content == miss.content == stack.entry(hash_).read_bytes()
    for name in HEADERS:
        assert hit.headers[name] == miss.headers[name], name
    assert "X-Accel-Redirect" not in hit.headers

    etag = hit.headers["ETag"]
    revalidated = requests.get(url, headers={"If-None-Match": etag}, timeout=30)
    assert revalidated.status_code == 304
    assert revalidated.content == b""
    assert revalidated.headers["ETag"] == etag
    head = requests.head(url, timeout=30)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["Content-Length"] == str(len(miss.content))
    assert head.headers["ETag"] == etag


def test_a_private_hit_is_sent_whole_to_its_owner_only(stack: Stack) -> None:
    hash_ = stack.upload(public=False)
    url = f"{stack.app.base}/image/{hash_}/resize/30x"
    first = requests.get(url, headers=AUTH, timeout=30)
    hit = requests.get(url, headers=AUTH, timeout=30)
    assert hit.status_code == 200
    assert hit.content == first.content == stack.entry(hash_).read_bytes()
    assert hit.headers["Cache-Control"] == "private, no-cache"
    assert requests.get(url, timeout=30).status_code == 403


def test_hits_keep_the_connection_alive(stack: Stack) -> None:
    hash_ = stack.upload()
    path = f"/image/{hash_}/resize/20x"
    connection = http.client.HTTPConnection(stack.app.base.removeprefix("http://"), timeout=30)
    try:
        bodies, sockets = set(), set()
        for _ in range(5):
            connection.request("GET", path)
            response = connection.getresponse()
            bodies.add(response.read())
            assert response.status == 200
            assert not response.will_close
            sockets.add(id(connection.sock))
        assert len(bodies) == 1
        assert len(sockets) == 1  # one connection for all five
    finally:
        connection.close()


def test_a_kept_alive_connection_closes_after_its_share_of_requests(stack: Stack) -> None:
    """So a client's few connections do not stay on the worker they first landed on; never
    after a request with a body, whose answer may not have read it all (an upload refused
    early): the next request without one closes the connection instead."""
    hash_ = stack.upload()
    path = f"/image/{hash_}/resize/21x"
    connection = http.client.HTTPConnection(stack.app.base.removeprefix("http://"), timeout=30)
    try:
        closing = []
        for _ in range(KEEPALIVE_REQUESTS + 1):
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            closing.append(response.will_close)
        # The last of a connection's share says so; http.client opened a new one after it.
        assert closing.index(True) == KEEPALIVE_REQUESTS - 1
        assert closing[-1] is False

        for _ in range(KEEPALIVE_REQUESTS - 2):  # the new connection's 2nd to 99th
            connection.request("GET", path)
            connection.getresponse().read()
        connection.request(
            "POST", "/upload", body=b"not an image", headers={"Content-Type": "image/jpeg", **AUTH}
        )
        response = connection.getresponse()
        response.read()
        assert response.status == 415  # refused, its body read
        assert not response.will_close  # its 100th request carried a body
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        assert response.will_close
    finally:
        connection.close()


def _holder(pids: set[int], server_port: int, client_port: int) -> int:
    """The worker holding the server's end of the loopback connection from `client_port`."""
    inode = ""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1].split(":")[1], fields[2].split(":")[1]
        if int(local, 16) == server_port and int(remote, 16) == client_port:
            inode = fields[9]
    assert inode, f"no connection from port {client_port}"
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
    raise AssertionError(f"no worker holds socket {inode}")


def test_kept_alive_connections_are_spread_over_the_workers(stack: Stack) -> None:
    """Each worker accepts only while it holds no more connections than the other
    (images_server/worker_loads.py): opened one after another, eight kept-alive
    connections are never more than one apart between the two workers."""
    hash_ = stack.upload()
    path = f"/image/{hash_}/resize/22x"
    host = stack.app.base.removeprefix("http://")
    server_port = int(host.rsplit(":", 1)[1])
    workers = stack.app.workers()
    assert len(workers) == 2
    connections: list[http.client.HTTPConnection] = []
    try:
        held: dict[int, int] = dict.fromkeys(workers, 0)
        for _ in range(8):
            connection = http.client.HTTPConnection(host, timeout=30)
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            assert not response.will_close
            connections.append(connection)
            held[_holder(workers, server_port, connection.sock.getsockname()[1])] += 1
            assert max(held.values()) - min(held.values()) <= 1, held
        assert sorted(held.values()) == [4, 4]
    finally:
        for connection in connections:
            connection.close()


def _traced(pids: set[int]) -> bool:
    tasks = [task for pid in pids for task in Path(f"/proc/{pid}/task").iterdir()]
    return all(
        int(re.search(r"TracerPid:\s+(\d+)", (task / "status").read_text())[1]) != 0  # type: ignore[index]
        for task in tasks
    )


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
def test_a_hit_leaves_gunicorn_by_sendfile(stack: Stack, samples: Path) -> None:
    """Seen from the kernel: the web workers send a hit with sendfile(2), all its bytes."""
    hash_ = stack.upload(data=(samples / "photo-1mp-1200x900.jpg").read_bytes())
    url = f"{stack.app.base}/image/{hash_}/format/png"  # about 2.7 MB
    size = len(requests.get(url, timeout=60).content)
    assert size == stack.entry(hash_).stat().st_size > 1_000_000
    workers = stack.app.workers()
    log = stack.root / "strace.log"
    command = ["strace", "-f", "-qq", "-e", "trace=sendfile", "-o", str(log)]
    tracer = subprocess.Popen(
        [*command, *(arg for pid in workers for arg in ("-p", str(pid)))],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while not _traced(workers) and tracer.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        attached = tracer.poll() is None and _traced(workers)
        if attached:
            hit = requests.get(url, timeout=60)
    finally:
        tracer.send_signal(signal.SIGINT)  # detaches; the workers go on
        _, errors = tracer.communicate(timeout=30)
    if not attached:
        pytest.skip(f"strace cannot attach here: {errors!r}")
    assert hit.status_code == 200
    assert len(hit.content) == size
    calls = [line for line in log.read_text().splitlines() if "sendfile(" in line]
    sent = [int(m[1]) for line in calls if (m := re.search(r"\) = (\d+)$", line))]
    assert sum(sent) == size, calls  # every byte by the kernel, none read into Python


def test_pipelined_and_late_requests_on_a_connection_are_answered_in_order(stack: Stack) -> None:
    """A thread that answered a kept-alive request serves the connection's next one itself
    when it is already there (two requests in one write) or comes within
    `NEXT_REQUEST_WAIT`; one that comes later goes back through gunicorn's main loop."""
    hashes = [stack.upload() for _ in range(3)]
    host, port = stack.app.base.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as client:
        requests_ = b"".join(
            f"GET /image/{hash_}/resize/{n + 10}x HTTP/1.1\r\nHost: t\r\n\r\n".encode()
            for n, hash_ in enumerate(hashes[:2])
        )
        client.sendall(requests_)  # pipelined: the second is read ahead with the first
        reader = client.makefile("rb")
        sizes = [_read_response(reader) for _ in range(2)]
        time.sleep(NEXT_REQUEST_WAIT * 50)  # long past the wait: the main loop has it
        client.sendall(f"GET /image/{hashes[2]}/resize/12x HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        sizes.append(_read_response(reader))
    for n, (hash_, (status, width)) in enumerate(zip(hashes, sizes, strict=True)):
        assert status == 200
        assert width == n + 10, hash_


def _read_response(reader: Any) -> tuple[int, int]:
    """The status and the image width of the next response on `reader` (PNG bodies)."""
    status = int(reader.readline().split()[1])
    length = 0
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    body = reader.read(length)
    return status, pyvips.Image.new_from_buffer(body, "").width


def test_a_thread_waits_for_a_next_request_only_briefly() -> None:
    left, right = socket.socketpair()
    with left, right:
        conn = SimpleNamespace(
            sock=left, parser=SimpleNamespace(unreader=SimpleNamespace(buf=io.BytesIO()))
        )
        started = time.monotonic()
        assert not _next_request_within(conn, 0.05)
        assert time.monotonic() - started >= 0.04
        right.sendall(b"GET / HTTP/1.1\r\n")
        assert _next_request_within(conn, 0.05)
        conn.parser.unreader.buf = io.BytesIO(b"GET /next")  # read ahead already
        left.recv(100)
        assert _next_request_within(conn, 0.0)


def test_connections_opened_together_are_all_answered_at_once(stack: Stack, tmp_path: Path) -> None:
    """wrk opens four connections at once and renders back to back on each: the workers'
    threads serve the next requests without their loops waking, so a worker held back from
    accepting (its share taken) must still look again soon, or the last connection waits in
    the backlog for gthread's one-second poll (measured: 800 ms p99 at the start of every
    bench run)."""
    image = f"/image/{stack.upload(data=quadrant_bytes(1200, 900, 'jpeg'))}/resize/"
    script = tmp_path / "cold.lua"
    script.write_text(
        "local n = 0\n"
        "function request()\n"
        "  n = n + 1\n"
        f"  return wrk.format(nil, '{image}' .. (100 + (n * 7 + math.random(0, 6)) % 900) .. 'x')\n"
        "end\n"
    )
    for _ in range(10):  # each run opens four connections together: ten chances
        done = subprocess.run(
            ["wrk", "-t2", "-c4", "-d1s", "-s", str(script), stack.app.base],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        slowest = re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", done.stdout)
        assert slowest is not None, done.stdout
        assert _milliseconds(slowest[1]) < 300, done.stdout


def _milliseconds(wrk_time: str) -> float:
    """wrk's `950.00us`, `12.5ms` or `1.02s` in milliseconds."""
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", wrk_time).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]
