"""Readiness knows when queued jobs have no worker: real `images-server worker` processes
record a heartbeat in the queue (SQLite, then Redis); `/readyz` and `images-server check` fail
while jobs wait and no heartbeat is younger than `IMAGES_WORKER_HEARTBEAT_TIMEOUT` (once the
app has been up that long), and pass once a worker runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from images_server.app import create_app
from images_server.jobs.worker import heartbeat_interval
from images_server.settings import Settings
from tests.images import quadrant_bytes

CLI = str(Path(sys.executable).parent / "images-server")
TIMEOUT = 2  # seconds a heartbeat stays fresh (tests only: the default is 60)
WAIT = 30.0


@pytest.fixture(params=["sqlite", "redis"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    values = os.environ | {
        "IMAGES_DATA_DIR": str(tmp_path / "data"),
        "IMAGES_WORKER_HEARTBEAT_TIMEOUT": str(TIMEOUT),
        "IMAGES_QUEUE_WORKERS": "1",
    }
    values.pop("IMAGES_QUEUE_URL", None)
    if request.param == "redis":
        values["IMAGES_QUEUE_URL"] = f"{request.getfixturevalue('redis_url')}/0"
    return values


def _app(env: dict[str, str]) -> Flask:
    return create_app(
        Settings(
            data_dir=Path(env["IMAGES_DATA_DIR"]),
            queue_url=env.get("IMAGES_QUEUE_URL"),
            worker_heartbeat_timeout=TIMEOUT,
        )
    )


def _enqueue_a_job(client: FlaskClient, seed: int) -> None:
    """An upload, which queues its eager variants."""
    data = quadrant_bytes(64 + seed, 48, "jpeg")
    response = client.post("/upload", data=data, content_type="image/jpeg")
    assert response.status_code == 201


def _check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, "check"], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def _until(condition: object, what: str, worker: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        if worker is not None and worker.poll() is not None:
            pytest.fail(f"the worker exited: {worker.communicate()[0].decode(errors='replace')}")
        time.sleep(0.1)
    pytest.fail(f"not within {WAIT} s: {what}")


def test_readiness_follows_the_workers_heartbeat(
    env: dict[str, str], workers: list[subprocess.Popen[bytes]]
) -> None:
    app = _app(env)
    client = app.test_client()

    idle = client.get("/readyz")  # no worker, no job: ready, with a note
    assert idle.status_code == 200, idle.get_json()
    assert idle.get_json()["checks"]["workers"] == "ok"
    assert "no job worker has ever run" in idle.get_json()["notes"]["workers"]

    _enqueue_a_job(client, 0)
    starting = client.get("/readyz")  # a server just started gives its worker time to start
    assert starting.status_code == 200
    assert "jobs waiting for one to start" in starting.get_json()["notes"]["workers"]
    _until(lambda: client.get("/readyz").status_code == 503, "not ready once that time is up")
    body = client.get("/readyz").get_json()
    assert body["code"] == "not_ready"
    assert list(body["checks"]) == ["workers"]
    assert "jobs waiting and no job worker has ever run" in body["checks"]["workers"]
    checked = _check(env)
    assert checked.returncode == 1
    assert "not ready: workers" in checked.stderr
    assert "Traceback" not in checked.stderr

    worker = subprocess.Popen(
        [CLI, "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    workers.append(worker)
    _until(lambda: client.get("/readyz").status_code == 200, "ready with a worker", worker)
    ready = client.get("/readyz").get_json()
    assert "notes" not in ready  # a fresh heartbeat: no remark about workers
    _until(lambda: _check(env).returncode == 0, "`check` passes with a worker", worker)

    os.kill(worker.pid, signal.SIGKILL)  # no chance to say goodbye
    worker.communicate(timeout=30)
    _enqueue_a_job(client, 1)
    _until(lambda: client.get("/readyz").status_code == 503, "not ready once the beat is old")
    gone = client.get("/readyz").get_json()
    assert "jobs waiting and no job worker for" in gone["checks"]["workers"]
    assert _check(env).returncode == 1


def test_a_worker_beats_often_enough_never_to_look_gone() -> None:
    assert heartbeat_interval(Settings(worker_heartbeat_timeout=TIMEOUT)) == TIMEOUT / 4
    assert heartbeat_interval(Settings()) == 15  # 60 s: at most every 15 s
