"""The job worker `images-server serve` runs beside gunicorn is supervised: SIGKILLed, another
is started within seconds, the pack it was building is resumed at once (not after the 300 s
stall timeout) and a pack posted afterwards is built; `/readyz` sees a worker that is alive but
silent (SIGSTOPped: nothing to restart) once jobs wait, and recovers when it runs again."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.servers import CLI, free_port, job_workers, stop

STALL = 300
HEARTBEAT = 2
WAIT = 120.0
RESTART_WITHIN = 10.0


def _one_worker(master: int, other_than: int | None = None) -> int:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        found = [pid for pid in job_workers(master) if pid != other_than]
        if len(found) == 1:
            return found[0]
        time.sleep(0.1)
    pytest.fail(f"no job worker under the master {master} in {WAIT} s")


def _until_state(url: str, done: object) -> dict[str, object]:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            state = requests.get(url, timeout=10).json()
        except requests.RequestException:  # gunicorn still starting
            state = None
        if state is not None and callable(done) and done(state):
            return dict(state)
        time.sleep(0.2)
    pytest.fail(f"{url} not there in {WAIT} s: {requests.get(url, timeout=10).json()}")


def _post_pack(base: str, photo: Path, widths: str, formats: str) -> str:
    with photo.open("rb") as file:
        created = requests.post(
            f"{base}/packs",
            files={"file": file},
            data={"widths": widths, "formats": formats},
            timeout=60,
        )
    assert created.status_code == 202, created.text
    return str(created.json()["status_url"])


def _finished(state: dict[str, object]) -> bool:
    return state["status"] in ("done", "failed")


def test_serve_restarts_a_killed_job_worker_and_resumes_its_pack(
    tmp_path: Path, samples: Path
) -> None:
    port = free_port()
    env = os.environ | {
        "IMAGES_PORT": str(port),
        "IMAGES_DATA_DIR": str(tmp_path / "data"),
        "IMAGES_WORKERS": "1",
        "IMAGES_EAGER_PRESETS": "",
        "IMAGES_PACK_STALL_TIMEOUT": str(STALL),
        "IMAGES_WORKER_HEARTBEAT_TIMEOUT": str(HEARTBEAT),
    }
    env.pop("IMAGES_QUEUE_URL", None)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        master = subprocess.Popen([CLI, "serve"], env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    restarted = 0
    try:
        _until_state(f"{base}/healthz", lambda s: s["status"] == "ok")
        first = _one_worker(master.pid)
        big = samples / "photo-12mp-4000x3000.jpg"
        pack = _post_pack(base, big, "320,640,960,1280,1600,1920", "avif,webp,jpeg")
        _until_state(pack, lambda s: s["status"] == "processing" and float(s["progress"]) > 0.15)

        os.kill(first, signal.SIGKILL)
        killed = time.monotonic()
        restarted = _one_worker(master.pid, other_than=first)
        back_in = time.monotonic() - killed
        state = _until_state(pack, _finished)
        resumed_in = time.monotonic() - killed
        print(f"worker back {back_in:.1f} s, interrupted pack done {resumed_in:.1f} s after kill")
        assert back_in < RESTART_WITHIN
        assert state["status"] == "done", state
        assert resumed_in < STALL / 2  # resumed at once, not after the stall timeout

        small = samples / "photo-1mp-1200x900.jpg"
        after = _until_state(_post_pack(base, small, "160", "webp"), _finished)
        assert after["status"] == "done", after
        ready = requests.get(f"{base}/readyz", timeout=30)
        assert ready.status_code == 200, ready.text
        assert "workers" not in ready.json().get("notes", {})  # the new worker beats

        # Alive but silent: nothing for the supervisor to restart; readiness sees it.
        os.kill(restarted, signal.SIGSTOP)
        try:
            waiting = _post_pack(base, small, "160", "jpeg")
            deadline = time.monotonic() + WAIT
            while requests.get(f"{base}/readyz", timeout=30).status_code != 503:
                assert time.monotonic() < deadline, "/readyz never saw the silent worker"
                time.sleep(0.2)
            body = requests.get(f"{base}/readyz", timeout=30).json()
            assert "jobs waiting and no job worker for" in body["checks"]["workers"]
        finally:
            os.kill(restarted, signal.SIGCONT)
        assert _until_state(waiting, _finished)["status"] == "done"
        deadline = time.monotonic() + WAIT
        while requests.get(f"{base}/readyz", timeout=30).status_code != 200:
            assert time.monotonic() < deadline, "/readyz did not recover"
            time.sleep(0.2)
        assert job_workers(master.pid) == [restarted]  # never restarted twice
    finally:
        stop(master, timeout=90)
    text = log.read_text(errors="replace")
    assert f"the job worker (pid {first})" in text
    assert "starting another in 1 s" in text
    assert restarted
    assert not Path(f"/proc/{restarted}").exists()  # stopped with the server
