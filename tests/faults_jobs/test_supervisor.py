"""The supervisor `serve` runs its job worker under, on real processes: a worker that keeps
dying is started again after 1 s, then 2 s, 4 s... (never in a tight loop); `stop` stops the
one running and starts no other."""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

from images_server.jobs.supervisor import FIRST_DELAY, Supervisor


def _starts(record: Path) -> list[float]:
    return [float(line) for line in record.read_text().split()] if record.exists() else []


def test_a_worker_that_keeps_dying_is_restarted_with_a_growing_delay(tmp_path: Path) -> None:
    record = tmp_path / "starts"
    crash = (
        f"import sys, time; open({str(record)!r}, 'a').write(f'{{time.time()}}\\n'); sys.exit(3)"
    )
    supervisor = Supervisor((sys.executable, "-c", crash))
    supervisor.start()
    try:
        time.sleep(15)
    finally:
        supervisor.stop(timeout=10)
    starts = _starts(record)
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    print(f"{len(starts)} starts in 15 s, gaps {[round(gap, 1) for gap in gaps]}")
    assert 4 <= len(starts) <= 5  # 0, ~1.5, ~4, ~8.5 s (then ~17): no tight loop
    assert gaps[0] >= FIRST_DELAY
    assert gaps[1] >= 2 * FIRST_DELAY
    assert gaps[2] >= 4 * FIRST_DELAY
    time.sleep(3)
    assert len(_starts(record)) == len(starts)  # stopped: nothing more


def test_stop_ends_the_running_worker_and_starts_no_other(tmp_path: Path) -> None:
    record = tmp_path / "starts"
    run = f"import time; open({str(record)!r}, 'a').write(f'{{time.time()}}\\n'); time.sleep(600)"
    supervisor = Supervisor((sys.executable, "-c", run))
    supervisor.start()
    pid = supervisor.pid
    assert pid is not None
    deadline = time.monotonic() + 30
    while not _starts(record):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    supervisor.stop(timeout=10)
    assert not Path(f"/proc/{pid}").exists()  # terminated and reaped
    time.sleep(2)
    assert len(_starts(record)) == 1
    assert supervisor.restarts == 0
