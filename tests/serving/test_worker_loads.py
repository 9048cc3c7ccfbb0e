"""`worker_loads.WorkerLoads`: the shared table by which each threaded web worker accepts
only its share of the connections (the workers' side is tests/warm_hits/test_gunicorn.py)."""

from __future__ import annotations

import os
import time

import pytest

from images_server import worker_loads
from images_server.worker_loads import WorkerLoads

CAP = 1000  # gunicorn's worker_connections


def test_a_worker_may_hold_one_more_connection_than_the_least_loaded_other() -> None:
    loads = WorkerLoads(rows=4)
    a, b, c = (_row(loads, pid) for pid in (101, 102, 103))
    assert (a, b, c) == (0, 1, 2)
    loads.publish(a, 3)
    loads.publish(b, 1)
    loads.publish(c, 2)
    assert loads.limit(a, CAP) == 2  # b holds 1: a (holding 3) accepts nothing
    assert loads.limit(b, CAP) == 3  # the fewest elsewhere is c's 2
    assert loads.limit(c, CAP) == 2
    assert loads.limit(b, 2) == 2  # never past gunicorn's own cap


def test_alone_a_worker_is_bound_by_its_cap_only() -> None:
    loads = WorkerLoads(rows=2)
    row = _row(loads, 101)
    loads.publish(row, 7)
    assert loads.fewest_elsewhere(row) is None
    assert loads.limit(row, CAP) == CAP


def _row(loads: WorkerLoads, pid: int) -> int:
    row = loads.claim(pid)
    assert row is not None
    return row


def test_stopping_stale_and_exited_workers_are_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    loads = WorkerLoads(rows=4)
    busy, stopping, hung, gone = (_row(loads, pid) for pid in (101, 102, 103, 104))
    for row in (hung, gone):
        loads.publish(row, 0)
    loads.free(104)
    started = time.monotonic()

    def later(seconds: float) -> None:  # the clock moves on; busy and stopping still report
        monkeypatch.setattr(time, "monotonic", lambda: started + seconds)
        loads.publish(busy, 5)
        loads.publish(stopping, 0, accepting=False)

    later(worker_loads.STALE_AFTER / 2)
    assert loads.fewest_elsewhere(busy) == 0  # the hung one, not yet stale
    later(worker_loads.STALE_AFTER + 1)
    assert loads.fewest_elsewhere(busy) is None
    assert loads.limit(busy, CAP) == CAP


def test_rows_are_claimed_once_and_freed_by_pid() -> None:
    loads = WorkerLoads(rows=2)
    assert loads.claim(101) == 0
    assert loads.claim(102) == 1
    assert loads.claim(103) is None  # full: that worker goes unbalanced
    loads.free(101)
    assert loads.claim(104) == 0


def test_the_table_is_shared_with_forked_workers() -> None:
    loads = WorkerLoads(rows=2)
    mine = _row(loads, os.getpid())
    loads.publish(mine, 0)
    child = os.fork()
    if child == 0:  # the forked worker claims its own row and reports its connections
        try:
            row = loads.claim(os.getpid())
            loads.publish(row if row is not None else 0, 4)
        finally:
            os._exit(0)
    os.waitpid(child, 0)
    assert loads.fewest_elsewhere(mine) == 4
    assert loads.limit(mine, CAP) == 5
