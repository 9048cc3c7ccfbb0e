"""Helpers for tests that start real servers on loopback: a free port, stopping one, and
`images-server serve` itself."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def never_answering() -> Iterator[str]:
    """`127.0.0.1:<port>` of a socket whose kernel completes every handshake and whose backlog
    nobody ever reads: a hung server, until the block ends."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"127.0.0.1:{listener.getsockname()[1]}"


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds; reaped and its
    pipes closed either way."""
    if process.poll() is None:
        process.terminate()
    try:
        process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()


CLI = str(Path(sys.executable).parent / "images-server")


@contextmanager
def images_server(
    data_dir: Path,
    extra_env: dict[str, str] | None = None,
    log_dir: Path | None = None,
    port: int | None = None,
) -> Iterator[str]:
    """`images-server serve` as `make run` starts it (two web workers and the embedded job
    worker) on `port` (default: a free loopback port), with its data in `data_dir`; yields
    the base URL once `/healthz` answers. Its stdout and stderr go to files in `log_dir`
    (default: `data_dir`'s parent), never to a pipe nobody reads while it runs."""
    port = port or free_port()
    env = os.environ | {
        "IMAGES_PORT": str(port),
        "IMAGES_DATA_DIR": str(data_dir),
        "IMAGES_WORKERS": "2",
        **(extra_env or {}),
    }
    logs = log_dir or data_dir.parent
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / "stdout.log").open("wb") as out, (logs / "stderr.log").open("wb") as err:
        process = subprocess.Popen([CLI, "serve"], env=env, stdout=out, stderr=err)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _healthy(base):
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError(f"images-server serve did not start: see {logs}")
            time.sleep(0.2)
        yield base
    finally:
        stop(process)


def _healthy(base: str) -> bool:
    try:  # gunicorn accepts connections before its workers have booted
        return requests.get(f"{base}/healthz", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def children(parent: int) -> list[int]:
    """The pids of `parent`'s live children, read from /proc."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found.append(int(proc.name))
    return found


def job_workers(parent: int) -> list[int]:
    """Children of `parent` running `images_server.cli worker` (the job worker of `serve`)."""
    found = []
    for pid in children(parent):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"images_server.cli" in cmdline and b"worker" in cmdline:
            found.append(pid)
    return found
