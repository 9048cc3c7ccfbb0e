"""`images-server serve` started for a test that needs its process too: to signal the master,
or to see its workers."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.servers import CLI, children, free_port, stop


@dataclass(frozen=True)
class Served:
    base: str
    process: subprocess.Popen[bytes]  # gunicorn's master (`serve` execs it)
    logs: Path  # stdout.log, stderr.log

    def workers(self) -> set[int]:
        """The pids of the master's gunicorn workers (run with no job worker beside them)."""
        return set(children(self.process.pid))

    def log_text(self) -> str:
        return (self.logs / "stderr.log").read_text(errors="replace")


@contextmanager
def serving(root: Path, extra_env: dict[str, str]) -> Iterator[Served]:
    """`images-server serve` on a free loopback port, data and logs under `root`, no job worker;
    yields once `/healthz` answers and every worker has booted."""
    env = os.environ | {
        "IMAGES_PORT": str(free_port()),
        "IMAGES_DATA_DIR": str(root / "data"),
        "IMAGES_SERVE_WORKER": "0",
        **extra_env,
    }
    with (root / "stdout.log").open("wb") as out, (root / "stderr.log").open("wb") as err:
        process = subprocess.Popen([CLI, "serve"], env=env, stdout=out, stderr=err)
    served = Served(f"http://127.0.0.1:{env['IMAGES_PORT']}", process, root)
    try:
        deadline = time.monotonic() + 60
        expected = int(env.get("IMAGES_WORKERS", "1"))
        while not (_healthy(served.base) and len(served.workers()) == expected):
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError(f"images-server serve did not start: see {root}")
            time.sleep(0.2)
        yield served
    finally:
        stop(process)


def _healthy(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=5).status_code == 200
    except requests.RequestException:
        return False
