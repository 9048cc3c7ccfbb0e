"""Pytest plugin: a real `redis-server` on loopback, for the rate-limit tests.

List it in `pytest_plugins`. `redis_server` starts one server per session (no persistence,
bound to 127.0.0.1 on a free port, in a temp dir) and stops it at the end; `redis_url` gives
each test that server's URL with the database emptied. `start_redis` starts a private one
that a test may stop halfway. A missing `redis-server` fails the tests (never skips): a
silently skipped Redis suite would hide a limiter that does not share counts.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from tests.servers import free_port, stop

_START_TIMEOUT = 10.0


@dataclass
class RedisServer:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def answers(self) -> bool:
        client = redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        stop(self.process, timeout=10)


def _binary() -> str:
    found = shutil.which("redis-server") or shutil.which("/usr/bin/redis-server")
    if found is None:
        pytest.fail("redis-server is missing: apt-get install redis-server")
    return found


def _start(directory: Path) -> RedisServer:
    port = free_port()
    log = directory / "redis.log"
    args = [_binary(), "--port", str(port), "--bind", "127.0.0.1"]
    args += ["--save", "", "--appendonly", "no", "--dir", str(directory)]
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            args, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    server = RedisServer(process, port, log)
    deadline = time.monotonic() + _START_TIMEOUT
    while not server.answers():
        if process.poll() is not None:
            pytest.fail(f"redis-server exited with {process.returncode}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            server.stop()
            pytest.fail(f"redis-server did not answer PING in {_START_TIMEOUT:.0f}s")
        time.sleep(0.05)
    return server


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = _start(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session server's URL, its database emptied for this test."""
    client = redis.Redis(port=redis_server.port, socket_timeout=2)
    try:
        client.flushdb()
    finally:
        client.close()
    return redis_server.url


@pytest.fixture
def start_redis(tmp_path: Path) -> Iterator[Callable[[], RedisServer]]:
    """Start a private server (stopped at the end of the test, if the test did not)."""
    started: list[RedisServer] = []

    def start() -> RedisServer:
        directory = tmp_path / f"redis-{len(started)}"
        directory.mkdir()
        started.append(_start(directory))
        return started[-1]

    yield start
    for server in started:
        server.stop()
