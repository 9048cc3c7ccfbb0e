"""Connections balanced between gunicorn's threaded web workers: `WorkerLoads`.

Each gthread worker accepts connections for itself, and a client's few kept-alive connections
stay where they landed. Measured under `wrk -c4` (`make bench-peers`): the four connections of
a cold-render load sat 4:0, 3:1 and 2:2 in turn, and while one worker held three or four, its
Python (one interpreter lock per process) ran on one core while the other idled: 15-20% of the
machine unused, one cached variant in eight lost. Closing a kept-alive connection after some
requests (`gunicorn_workers.KEEPALIVE_REQUESTS`) only re-rolls the dice.

So each worker publishes, at every turn of its loop, how many connections it holds, and
accepts only while it holds no more than the least loaded other worker: a new connection goes
to the idler worker, which is woken for it as well (both watch the listening socket). A worker
that stopped publishing for `STALE_AFTER` seconds (hung, or killed and not yet reaped) is left
out, so one stuck worker never stops the others from accepting; a stopping worker publishes
that it takes nothing more. The table is in shared memory, made by gunicorn's master before it
forks (`gunicorn_conf`); each worker claims a row after the fork and the master frees the row of
a worker that exited. The same table lets one worker at a time be recycled
(`start_recycling`, `gunicorn_workers.JsonThreadWorker`).
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

STALE_AFTER = 2.0  # seconds: gthread's loop publishes at least once a second
_TAKES_NONE = 2**31 - 1  # a stopping worker's count: never the fewest


class WorkerLoads:
    """Per worker: its pid, the connections it holds, and when it last said so."""

    def __init__(self, rows: int) -> None:
        self._lock = multiprocessing.Lock()
        self._pids: Any = multiprocessing.Array("i", rows, lock=False)  # 0: a free row
        self._conns: Any = multiprocessing.Array("i", rows, lock=False)
        self._seen: Any = multiprocessing.Array("d", rows, lock=False)  # time.monotonic()
        self._recycling: Any = multiprocessing.Value("i", 0, lock=False)  # a pid, or 0

    def claim(self, pid: int) -> int | None:
        """A row for the worker `pid` (after its fork), or None when every row is taken."""
        with self._lock:
            for row in range(len(self._pids)):
                if self._pids[row] == 0:
                    self._conns[row] = 0
                    self._seen[row] = time.monotonic()
                    self._pids[row] = pid
                    return row
        return None

    def free(self, pid: int) -> None:
        """The row of a worker that exited (gunicorn's `child_exit`, in the master)."""
        with self._lock:
            for row in range(len(self._pids)):
                if self._pids[row] == pid:
                    self._pids[row] = 0
            if self._recycling.value == pid:
                self._recycling.value = 0

    def start_recycling(self, pid: int) -> bool:
        """Whether the worker `pid` may be replaced now: no other one is (the master clears
        this when that worker exits, `free`)."""
        with self._lock:
            if self._recycling.value not in (0, pid):
                return False
            self._recycling.value = pid
            return True

    def stop_recycling(self, pid: int) -> None:
        """`start_recycling` taken back: the worker `pid` stays after all."""
        with self._lock:
            if self._recycling.value == pid:
                self._recycling.value = 0

    def publish(self, row: int, conns: int, accepting: bool = True) -> None:
        self._conns[row] = conns if accepting else _TAKES_NONE
        self._seen[row] = time.monotonic()

    def fewest_elsewhere(self, row: int) -> int | None:
        """The fewest connections another live, accepting worker holds; None if there is none."""
        oldest = time.monotonic() - STALE_AFTER
        fewest: int | None = None
        for other in range(len(self._pids)):
            if other == row or self._pids[other] == 0 or self._seen[other] < oldest:
                continue
            conns = self._conns[other]
            if conns != _TAKES_NONE and (fewest is None or conns < fewest):
                fewest = conns
        return fewest

    def limit(self, row: int, cap: int) -> int:
        """How many connections the worker in `row` may hold now: one more than the least
        loaded other worker, within `cap` (gunicorn's `worker_connections`)."""
        fewest = self.fewest_elsewhere(row)
        return cap if fewest is None else min(cap, fewest + 1)
