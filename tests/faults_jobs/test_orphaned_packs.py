"""A pack whose worker died is resumed as soon as another worker is up, not after the stall
timeout (300 s here): real `images-server worker` processes, one SIGKILLed in the middle of a
pack; and a pack claimed by a worker elsewhere (its own heartbeat in the queue) is left alone
while that worker beats, and resumed once its beat is older than the heartbeat timeout."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from images_server.app import create_app
from images_server.jobs import queue
from images_server.jobs.tasks import Jobs
from images_server.packs import store
from images_server.services import Services
from images_server.settings import Settings

CLI = str(Path(sys.executable).parent / "images-server")
STALL = 300  # the fallback: no pack here may wait for it
HEARTBEAT = 2  # seconds a worker's beat stays fresh
WAIT = 120.0  # generous: a loaded 2-core machine
ELSEWHERE = "another-host 4242 not-this-machine 1"  # a worker identity of another host


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = os.environ | {
        "IMAGES_DATA_DIR": str(tmp_path / "data"),
        "IMAGES_PACK_STALL_TIMEOUT": str(STALL),
        "IMAGES_WORKER_HEARTBEAT_TIMEOUT": str(HEARTBEAT),
        "IMAGES_EAGER_PRESETS": "",
        "IMAGES_QUEUE_WORKERS": "1",
    }
    values.pop("IMAGES_QUEUE_URL", None)
    return values


def _start(env: dict[str, str], started: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [CLI, "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    started.append(process)
    return process


def _app(env: dict[str, str]) -> Flask:
    settings = Settings(
        data_dir=Path(env["IMAGES_DATA_DIR"]),
        pack_stall_timeout=STALL,
        worker_heartbeat_timeout=HEARTBEAT,
        eager_presets=(),
    )
    return create_app(settings)


def _services(app: Flask) -> Services:
    services: Services = app.extensions["images"]
    return services


def _state(client: FlaskClient, pack_id: str) -> dict[str, object]:
    body = client.get(f"/packs/{pack_id}").get_json()
    assert isinstance(body, dict)
    return body


def _until(
    client: FlaskClient,
    pack_id: str,
    condition: Callable[[dict[str, object]], bool],
    worker: subprocess.Popen[bytes],
    wait: float = WAIT,
) -> dict[str, object]:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        state = _state(client, pack_id)
        if condition(state):
            return state
        if worker.poll() is not None:
            pytest.fail(f"the worker exited:\n{worker.communicate()[0].decode(errors='replace')}")
        time.sleep(0.1)
    pytest.fail(f"pack {pack_id} not there in {wait} s: {_state(client, pack_id)}")


def _attempts(app: Flask, pack_id: str) -> int:
    database = _services(app).database
    assert database is not None
    row = store.get(database, pack_id)
    assert row is not None
    return row.attempts


def test_a_pack_whose_worker_was_killed_is_resumed_by_the_next_worker_at_once(
    env: dict[str, str], workers: list[subprocess.Popen[bytes]], samples: Path
) -> None:
    first = _start(env, workers)
    app = _app(env)
    client = app.test_client()
    photo = (samples / "photo-12mp-4000x3000.jpg").read_bytes()
    query = "widths=320,640,960,1280,1600,1920&formats=avif,webp,jpeg"
    created = client.post(f"/packs?{query}", data=photo, content_type="image/jpeg")
    pack_id = created.get_json()["id"]
    _until(
        client,
        pack_id,
        lambda s: s["status"] == "processing" and float(str(s["progress"])) > 0.15,
        first,
    )
    os.kill(first.pid, signal.SIGKILL)
    first.communicate(timeout=30)

    second = _start(env, workers)
    started = time.monotonic()
    _until(client, pack_id, lambda s: _attempts(app, pack_id) == 2, second)
    resumed = time.monotonic() - started
    state = _until(client, pack_id, lambda s: s["status"] in ("done", "failed"), second)
    finished = time.monotonic() - started
    print(f"resumed {resumed:.1f} s, done {finished:.1f} s after the second worker started")
    assert state["status"] == "done", state["error"]
    assert finished < STALL / 2  # nowhere near the stall timeout
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/packs/{pack_id}/download").data))
    assert len(archive.namelist()) > 18  # 18 images, the manifest and the snippets
    jobs = _services(app).jobs
    assert isinstance(jobs, Jobs)
    assert queue.claimed_by(jobs.huey, pack_id, 2) is None  # a finished claim is forgotten


def test_a_pack_of_a_worker_elsewhere_is_resumed_once_its_heartbeat_is_old(
    env: dict[str, str], workers: list[subprocess.Popen[bytes]], samples: Path
) -> None:
    app = _app(env)
    client = app.test_client()
    services = _services(app)
    assert services.database is not None
    assert isinstance(services.jobs, Jobs)
    huey = services.jobs.huey
    photo = (samples / "photo-1mp-1200x900.jpg").read_bytes()
    form = {"file": (io.BytesIO(photo), "p.jpg"), "widths": "320,640", "formats": "webp"}
    pack_id = client.post("/packs", data=form).get_json()["id"]
    # What a worker on another host does when it takes the pack: claim it, record the claim.
    job = store.claim(services.database, pack_id, STALL)
    assert job is not None
    assert job.attempt == 1
    queue.record_claim(huey, pack_id, job.attempt, ELSEWHERE)
    beating = threading.Event()
    beating.set()

    def beat_elsewhere() -> None:
        while beating.is_set():
            queue.beat(huey, worker=ELSEWHERE)
            time.sleep(0.3)

    beater = threading.Thread(target=beat_elsewhere, daemon=True)
    beater.start()
    try:
        worker = _start(env, workers)
        # The local worker is up (its own beat) and leaves the pack to the live one elsewhere.
        deadline = time.monotonic() + WAIT
        while queue.worker_beat(huey, queue.worker_identity(worker.pid)) is None:
            assert time.monotonic() < deadline, "the worker never beat"
            assert worker.poll() is None, worker.communicate()[0].decode(errors="replace")
            time.sleep(0.1)
        time.sleep(3 * HEARTBEAT)
        held = _state(client, pack_id)
        assert (held["status"], _attempts(app, pack_id)) == ("processing", 1)
    finally:
        beating.clear()
        beater.join(timeout=10)
    silent = time.monotonic()
    state = _until(client, pack_id, lambda s: s["status"] in ("done", "failed"), worker)
    waited = time.monotonic() - silent
    print(f"done {waited:.1f} s after the other worker's last beat")
    assert state["status"] == "done", state["error"]
    assert _attempts(app, pack_id) == 2
    assert waited < STALL / 2
    assert queue.claimed_by(huey, pack_id, 1) is None
    assert queue.worker_beat(huey, ELSEWHERE) is None  # the gone worker's beat is dropped
