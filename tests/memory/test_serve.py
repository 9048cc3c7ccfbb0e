"""`images-server serve` on the embedded defaults shares its imports (README "Memory").

gunicorn's master imports the app before it forks (`images_server/gunicorn_conf.py`), and the
job worker is forked from it too (`images_server/jobs/supervisor.py`), so every child starts
with the master's pages shared. The master never renders, so libvips never starts a thread
in it: a fork of a process with libvips threads would inherit a thread pool without its
threads. One server (two web workers and the job worker) serves every test here, in order.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from bench.memory import reset_peak, role, serve, smaps_rollup, status_kb
from bench.proc import process_tree
from tests.servers import job_workers

IDLE_TREE_MB = 200  # measured 130-140 MB (README "Memory"); 314 MB before preloading
RENDER_PEAK_MB = 120  # one 12 MP render's peak RSS, measured 97 MB; 138 MB before
SHARED_MB = 20  # anonymous memory a child shares with the master: ~50 MB measured; 0 if not


@dataclass(frozen=True)
class Served:
    base: str
    master: int

    def children(self, kind: str) -> list[int]:
        return [pid for pid in process_tree(self.master) if role(self.master, pid) == kind]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("serve")
    # the tests read the workers' own memory and threads: none is replaced under them
    # (tests/memory/test_recycling.py tests that)
    env = {"IMAGES_WORKERS": "2", "IMAGES_RECYCLE_GROWTH_MB": "0"}
    with serve(tmp, "data", env) as (base, process):
        served = Served(base, process.pid)
        deadline = time.monotonic() + 30
        while len(served.children("job worker")) != 1 or len(served.children("web worker")) != 2:
            assert time.monotonic() < deadline, f"not every worker started: see {tmp}"
            time.sleep(0.2)
        yield served


def _shared_anonymous_mb(pid: int) -> float:
    """Anonymous memory (heap included) of `pid` that another process maps too."""
    shared, anonymous = 0, False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        header = re.match(r"^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$", line)
        if header:
            anonymous = header[1] in ("", "[heap]")
        elif anonymous and line.startswith(("Shared_Clean:", "Shared_Dirty:")):
            shared += int(line.split()[1])
    return shared / 1024


def _thread_names(pid: int) -> list[str]:
    return [(task / "comm").read_text().strip() for task in Path(f"/proc/{pid}/task").iterdir()]


def _socket_inodes(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:"):
            found.add(target)
    return found


def test_the_idle_tree_is_small(served: Served) -> None:
    pss = sum(smaps_rollup(pid)["Pss"] for pid in process_tree(served.master)) / 1024
    assert pss < IDLE_TREE_MB, f"{pss:.0f} MB PSS for the master, 2 web workers and the job worker"


def test_every_child_shares_the_masters_imports(served: Served) -> None:
    children = served.children("web worker") + served.children("job worker")
    shared = {pid: round(_shared_anonymous_mb(pid)) for pid in children}
    assert all(mb > SHARED_MB for mb in shared.values()), shared
    assert job_workers(served.master) == served.children("job worker")  # as `ps` shows it


def test_workers_render_and_the_master_starts_no_libvips_thread(
    served: Served, samples: Path
) -> None:
    photo = (samples / "photo-12mp-4000x3000.jpg").read_bytes()
    uploaded = requests.post(f"{served.base}/upload", files={"file": photo}, timeout=60)
    assert uploaded.status_code == 201, uploaded.text
    image = f"{served.base}/image/{uploaded.json()['hash']}"
    time.sleep(1.5)  # the worker that took the upload has trimmed what it freed
    web = served.children("web worker")
    for pid in web:
        reset_peak(pid)
    rendered = requests.get(f"{image}/resize/800x", timeout=60)
    assert rendered.status_code == 200
    assert rendered.content.startswith(b"\xff\xd8")
    peak = max(status_kb(pid, "VmHWM") for pid in web) / 1024
    assert peak < RENDER_PEAK_MB, f"a web worker peaked at {peak:.0f} MB rendering 12 MP"
    avif = requests.get(f"{image}/resize/640x/format/avif", timeout=60)
    assert avif.status_code == 200
    assert avif.headers["Content-Type"] == "image/avif"
    assert "libvips worker" not in _thread_names(served.master)
    assert any("libvips worker" in _thread_names(pid) for pid in web)  # where they belong


def test_a_job_worker_forked_again_holds_no_listening_socket(served: Served) -> None:
    (first,) = served.children("job worker")
    master_sockets = _socket_inodes(served.master)
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 20  # started again after 1 s (jobs/supervisor.py)
    while not (again := [pid for pid in served.children("job worker") if pid != first]):
        assert time.monotonic() < deadline, "no job worker started again"
        time.sleep(0.1)
    (second,) = again
    time.sleep(0.5)  # past the fork's own set-up
    assert not _socket_inodes(second) & master_sockets  # gunicorn's listener is the master's
    assert _shared_anonymous_mb(second) > SHARED_MB
    assert job_workers(served.master) == [second]
