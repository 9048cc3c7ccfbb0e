"""Pack jobs on real `images-server worker` processes: a pack is built in the background; a
worker killed in the middle of a pack leaves it unpublished, and the next worker runs it again
to the end; a cancelled pack is never built, or stops at its next file. Also
`images-server pack`, the local build."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from images_server.app import create_app
from images_server.hashing import pack_ref
from images_server.packs import store
from images_server.packs.options import OPTIONS
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


def test_a_cancelled_pack_is_skipped_or_stopped_by_a_worker(
    env: dict[str, str], workers: list[subprocess.Popen[bytes]], samples: Path
) -> None:
    """Queued: the worker never builds it. Processing: it stops at its next file, publishing
    nothing, and goes on to the next job."""
    app = _app(env)
    client = app.test_client()
    database = app.extensions["images"].require_database()
    big = (samples / "photo-12mp-4000x3000.jpg").read_bytes()
    query = "widths=320,640,960,1280,1600,1920,2560&formats=avif,webp,jpeg"  # 21 files
    queued = client.post(f"/packs?{query}", data=big, content_type="image/jpeg").get_json()["id"]
    assert client.post(f"/packs/{queued}/cancel").get_json()["status"] == "cancelled"

    worker = _start(env, workers)  # the cancelled pack is first in its queue
    running = client.post(f"/packs?{query}", data=big, content_type="image/jpeg").get_json()["id"]
    midway = _wait(client, running, lambda s: int(str(s["files_done"])) >= 2, worker)
    assert (midway["status"], midway["files_total"]) == ("processing", 21)
    cancelled = client.post(f"/packs/{running}/cancel").get_json()
    assert cancelled["status"] == "cancelled"

    photo = (samples / "photo-1mp-1200x900.jpg").read_bytes()
    form = {"file": (io.BytesIO(photo), "p.jpg"), "widths": "320", "formats": "webp"}
    after = client.post("/packs", data=form).get_json()["id"]
    state = _wait(client, after, lambda s: s["status"] in ("done", "failed"), worker)
    assert state["status"] == "done"  # one worker thread: it left the cancelled job first

    worker.terminate()
    output = worker.communicate(timeout=60)[0].decode(errors="replace")
    stopped = re.search(rf"pack {running} was cancelled: stopped after (\d+) of 21 files", output)
    assert stopped, output
    assert int(stopped[1]) < 21
    for pack_id in (queued, running):
        final = _state(client, pack_id)
        assert (final["status"], final["manifest"], final["download_url"]) == (
            "cancelled",
            None,
            None,
        )
        assert not app.extensions["images"].storage.exists(pack_ref(pack_id, "zip"))
    row = store.get(database, queued)
    assert row is not None
    assert (row.attempts, row.files_total) == (0, None)  # never claimed, never analysed
    assert 2 <= int(str(_state(client, running)["files_done"])) < int(stopped[1])  # frozen


def _pack(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, "pack", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_pack_command_builds_a_zip_locally(tmp_path: Path, samples: Path) -> None:
    output = tmp_path / "out.zip"
    result = _pack(
        str(samples / "dice-alpha-300x225.png"),
        "-o",
        str(output),
        "--widths",
        "100,200",
        "--alt",
        "Two dice",
        env=os.environ | {"IMAGES_DATA_DIR": str(tmp_path / "data")},
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
    bad = _pack(str(samples / "README.md"), "-o", str(tmp_path / "x.zip"))
    assert bad.returncode != 0
    assert "not a supported image format" in bad.stderr


def test_the_pack_command_prints_sizes_for_humans(tmp_path: Path, samples: Path) -> None:
    output = tmp_path / "out.zip"
    result = _pack(str(samples / "dice-alpha-300x225.png"), "-o", str(output), "--widths", "100")
    assert result.returncode == 0, result.stderr
    manifest = json.loads(zipfile.ZipFile(output).read("manifest.json"))
    for entry in manifest["files"]:
        line = next(line for line in result.stdout.splitlines() if entry["file"] in line)
        shown = re.search(r"(\d+\.\d) kB$", line)
        assert shown, line
        assert abs(float(shown[1]) * 1000 - entry["bytes"]) <= 50  # one decimal of kB
        assert str(entry["bytes"]) not in result.stdout  # no raw byte counts
    zipped = output.stat().st_size / 1000
    assert f"{zipped:.1f} kB zipped" in result.stdout


def test_the_pack_command_takes_every_option_of_the_api(tmp_path: Path, samples: Path) -> None:
    usage = _pack("--help").stdout
    assert all(f"--{name}" in usage for name in OPTIONS)
    output = tmp_path / "out.zip"
    result = _pack(
        str(samples / "photo-1mp-1200x900.jpg"),
        "-o",
        str(output),
        "--widths",
        "160",
        "--formats",
        "webp,jpeg",
        "--quality",
        '{"webp": 60}',
        "--role",
        "card",
        "--loading",
        "eager",
        "--fetchpriority",
        "low",
        "--sizes",
        "(max-width: 500px) 100vw, 500px",
        "--alt",
        "A valley",
        "--name",
        "valley",
    )
    assert result.returncode == 0, result.stderr
    archive = zipfile.ZipFile(output)
    settings = json.loads(archive.read("manifest.json"))["settings"]
    assert settings == settings | {
        "name": "valley",
        "formats": ["webp", "jpeg"],
        "widths": [160],
        "role": "card",
        "loading": "eager",
        "fetchpriority": "low",
        "sizes": "(max-width: 500px) 100vw, 500px",
        "alt": "A valley",
    }
    assert settings["quality"]["webp"] == 60
    picture = archive.read("snippets/picture.html").decode()
    assert 'loading="eager"' in picture
    assert 'fetchpriority="low"' in picture
    assert 'sizes="(max-width: 500px) 100vw, 500px"' in picture


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("--widths", "abc"), "--widths"),
        (("--widths", "8"), "--widths"),
        (("--formats", "gif"), "--formats"),
        (("--quality", "{bad json"), "--quality"),
        (("--quality", '{"avif": 500}'), "--quality"),
        (("--role", "banner"), "--role"),
        (("--loading", "soon"), "--loading"),
        (("--fetchpriority", "urgent"), "--fetchpriority"),
        (("--sizes", "a\x01b"), "--sizes"),
        (("--name", "Bad Name"), "--name"),
        (("--decorative", "--alt", "Two dice"), "--decorative"),
    ],
)
def test_a_bad_pack_option_is_named(
    tmp_path: Path, samples: Path, args: tuple[str, ...], option: str
) -> None:
    output = tmp_path / "out.zip"
    result = _pack(str(samples / "dice-alpha-300x225.png"), "-o", str(output), *args)
    assert result.returncode == 2  # click's usage error
    assert f"Invalid value for {option}" in result.stderr.replace("'", "")
    assert "Traceback" not in result.stderr
    assert "pack of" not in result.stderr  # refused before anything was rendered
    assert not output.exists()


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        ("/etc/hostname/x.zip", "/etc/hostname is not a directory"),
        ("{tmp}/missing/x.zip", "the directory {tmp}/missing does not exist"),
        ("{tmp}", "it is a directory"),
    ],
)
def test_an_unwritable_output_is_refused_before_rendering(
    tmp_path: Path, samples: Path, output: str, reason: str
) -> None:
    target = output.format(tmp=tmp_path)
    source = str(samples / "photo-12mp-4000x3000.jpg")
    if target == str(tmp_path):  # click refuses an existing directory itself
        result = _pack(source, "-o", target)
        assert result.returncode == 2
        assert "is a directory" in result.stderr
        return
    result = _pack(source, "-o", target)
    assert result.returncode == 1
    assert result.stderr.strip() == f"Error: cannot write {target}: {reason.format(tmp=tmp_path)}"
    assert result.stdout == ""
