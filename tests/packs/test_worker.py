"""Pack jobs on real `images-server worker` processes: a pack is built in the background; a
worker killed in the middle of a pack leaves it unpublished, and the next worker runs it again
to the end. Also `images-server pack`, the local build."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from images_server.app import create_app
from images_server.hashing import pack_ref
from images_server.settings import Settings

CLI = str(Path(sys.executable).parent / "images-server")
WAIT = 120.0
STALL = 2  # seconds without progress before a pack counts as abandoned (tests only)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return os.environ | {
        "IMAGES_DATA_DIR": str(tmp_path / "data"),
        "IMAGES_PACK_STALL_TIMEOUT": str(STALL),
        "IMAGES_EAGER_PRESETS": "",
        "IMAGES_QUEUE_WORKERS": "1",
    }


@pytest.fixture
def workers(env: dict[str, str]) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.terminate()
        process.communicate(timeout=60)


def _start(env: dict[str, str], started: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [CLI, "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    started.append(process)
    return process


def _app(env: dict[str, str]) -> Flask:
    return create_app(
        Settings(data_dir=Path(env["IMAGES_DATA_DIR"]), pack_stall_timeout=STALL, eager_presets=())
    )


def _state(client: FlaskClient, pack_id: str) -> dict[str, object]:
    body = client.get(f"/packs/{pack_id}").get_json()
    assert isinstance(body, dict)
    return body


def _wait(
    client: FlaskClient, pack_id: str, done: object, worker: subprocess.Popen[bytes]
) -> dict[str, object]:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        state = _state(client, pack_id)
        if callable(done) and done(state):
            return state
        if worker.poll() is not None:
            output = worker.communicate()[0].decode(errors="replace")
            pytest.fail(f"the worker exited:\n{output}")
        time.sleep(0.1)
    pytest.fail(f"pack {pack_id} did not get there in {WAIT} s: {_state(client, pack_id)}")


def test_a_worker_builds_a_pack(
    env: dict[str, str], workers: list[subprocess.Popen[bytes]], samples: Path
) -> None:
    worker = _start(env, workers)
    app = _app(env)
    client = app.test_client()
    photo = (samples / "photo-1mp-1200x900.jpg").read_bytes()
    form = {"file": (io.BytesIO(photo), "p.jpg"), "widths": "320,640", "formats": "webp,jpeg"}
    pack_id = client.post("/packs", data=form).get_json()["id"]
    progress: list[float] = []

    def finished(state: dict[str, object]) -> bool:
        progress.append(float(str(state["progress"])))
        return state["status"] in ("done", "failed")

    state = _wait(client, pack_id, finished, worker)
    assert state["status"] == "done"
    assert progress == sorted(progress)
    assert client.get(f"/packs/{pack_id}/download").status_code == 200


def test_a_pack_whose_worker_is_killed_is_finished_by_the_next(
    env: dict[str, str], workers: list[subprocess.Popen[bytes]], samples: Path
) -> None:
    first = _start(env, workers)
    app = _app(env)
    client = app.test_client()
    photo = (samples / "photo-12mp-4000x3000.jpg").read_bytes()
    # A raw body, options in the query (werkzeug's test client leaks big multipart parts).
    query = "widths=320,640,960,1280,1600,1920&formats=avif,webp,jpeg"
    created = client.post(f"/packs?{query}", data=photo, content_type="image/jpeg")
    pack_id = created.get_json()["id"]
    midway = _wait(
        client,
        pack_id,
        lambda s: s["status"] == "processing" and float(str(s["progress"])) > 0.15,
        first,
    )
    os.kill(first.pid, signal.SIGKILL)  # no chance to finish or clean up
    first.communicate(timeout=30)
    time.sleep(STALL + 0.5)
    stalled = _state(client, pack_id)
    assert stalled["status"] == "processing"  # nothing published by the dead job
    assert stalled["download_url"] is None
    assert not app.extensions["images"].storage.exists(pack_ref(pack_id, "zip"))

    second = _start(env, workers)  # at start it queues packs that stopped reporting
    state = _wait(client, pack_id, lambda s: s["status"] in ("done", "failed"), second)
    assert state["status"] == "done", state["error"]
    assert float(str(state["progress"])) >= float(str(midway["progress"]))
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/packs/{pack_id}/download").data))
    manifest = json.loads(archive.read("manifest.json"))
    assert len(manifest["files"]) == 18


def test_the_pack_command_builds_a_zip_locally(tmp_path: Path, samples: Path) -> None:
    output = tmp_path / "out.zip"
    result = subprocess.run(
        [
            CLI,
            "pack",
            str(samples / "dice-alpha-300x225.png"),
            "-o",
            str(output),
            "--widths",
            "100,200",
            "--alt",
            "Two dice",
        ],
        env=os.environ | {"IMAGES_DATA_DIR": str(tmp_path / "data")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "6 images" in result.stdout
    archive = zipfile.ZipFile(output)
    manifest = json.loads(archive.read("manifest.json"))
    assert [f["file"] for f in manifest["files"]] == [
        f"dice-alpha-300x225-{w}.{e}" for w in (100, 200) for e in ("avif", "webp", "png")
    ]
    assert 'alt="Two dice"' in archive.read("snippets/picture.html").decode()
    assert not (tmp_path / "data").exists()  # a local build stores nothing
    bad = subprocess.run(
        [CLI, "pack", str(samples / "README.md"), "-o", str(tmp_path / "x.zip")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode != 0
    assert "not a supported image format" in bad.stderr
