"""A web worker that grew while it served, then went idle, is replaced by a fresh one
(`IMAGES_RECYCLE_GROWTH_MB`, images_server/gunicorn_workers.py): one at a time, never the only
one, and the server answers throughout."""

from __future__ import annotations

import time
from pathlib import Path

import requests

from images_server.memory import private_bytes
from images_server.worker_loads import WorkerLoads
from tests.images import quadrant_bytes
from tests.serving.server import Served, serving

GROWN = {"IMAGES_RECYCLE_GROWTH_MB": "1"}  # any real work grows a worker by more


def _renders(served: Served, count: int) -> None:
    answer = requests.post(
        f"{served.base}/upload",
        files={"file": ("q.png", quadrant_bytes(900, 700, "png"))},
        timeout=60,
    )
    assert answer.status_code == 201, answer.text
    image = answer.json()["hash"]
    for n in range(count):
        rendered = requests.get(
            f"{served.base}/image/{image}/resize/{300 + n}x/format/webp", timeout=60
        )
        assert rendered.status_code == 200


def _replaced(served: Served, before: set[int], seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        now = served.workers()
        if now - before and len(now) == len(before):
            return before - now
        time.sleep(0.2)
    return set()


def test_a_grown_idle_worker_is_replaced_and_the_server_answers(tmp_path: Path) -> None:
    with serving(tmp_path, {"IMAGES_WORKERS": "2", **GROWN}) as served:
        before = served.workers()
        _renders(served, 12)
        gone = _replaced(served, before, seconds=15)
        assert gone, "no worker was replaced"
        assert "replaced: idle" in served.log_text()
        assert requests.get(f"{served.base}/healthz", timeout=10).status_code == 200
        _renders(served, 2)  # the fresh worker (or the other) renders


def test_the_only_worker_is_never_replaced(tmp_path: Path) -> None:
    with serving(tmp_path, {"IMAGES_WORKERS": "1", **GROWN}) as served:
        before = served.workers()
        _renders(served, 12)
        time.sleep(3)
        assert served.workers() == before
        assert "replaced: idle" not in served.log_text()


def test_never_at_zero(tmp_path: Path) -> None:
    with serving(tmp_path, {"IMAGES_WORKERS": "2", "IMAGES_RECYCLE_GROWTH_MB": "0"}) as served:
        before = served.workers()
        _renders(served, 12)
        time.sleep(3)
        assert served.workers() == before


def test_one_worker_is_replaced_at_a_time() -> None:
    loads = WorkerLoads(rows=2)
    assert loads.start_recycling(101)
    assert loads.start_recycling(101)  # asking again is no harm
    assert not loads.start_recycling(102)
    loads.stop_recycling(101)  # measured: not grown after all
    assert loads.start_recycling(102)
    loads.claim(102)
    loads.free(102)  # it exited: the master frees its row and the turn
    assert loads.start_recycling(101)


def test_private_memory_is_measured() -> None:
    before = private_bytes()
    held = bytearray(b"x" * (32 << 20))
    after = private_bytes()
    assert before is not None
    assert after is not None
    assert after - before >= 30 << 20
    del held
