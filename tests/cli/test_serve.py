"""`images-server serve` for real: gunicorn on a free port, driven over HTTP like a user would."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.images import decode
from tests.servers import free_port, job_workers

CLI = str(Path(sys.executable).parent / "images-server")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = os.environ | {
        "IMAGES_PORT": str(port),
        "IMAGES_DATA_DIR": str(tmp_path_factory.mktemp("serve")),
        "IMAGES_WORKERS": "2",
    }
    process = subprocess.Popen(
        [CLI, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:  # gunicorn accepts connections before its workers have booted
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            process.kill()
            output = process.communicate()[0].decode(errors="replace")
            pytest.fail(f"images-server serve did not start:\n{output}")
        yield base
    finally:
        if process.poll() is None:
            process.terminate()
        process.communicate(timeout=30)


def test_walkthrough_over_http(server: str, samples: Path) -> None:
    photo = samples / "photo-12mp-4000x3000.jpg"
    with photo.open("rb") as file:
        uploaded = requests.post(f"{server}/upload", files={"file": file}, timeout=30)
    assert uploaded.status_code == 201
    body = uploaded.json()
    assert (body["width"], body["height"], body["format"]) == (4000, 3000, "jpeg")
    assert body["url"] == f"{server}/image/{body['hash']}"

    variant = requests.get(f"{body['url']}/resize/800x/format/webp", timeout=30)
    assert variant.status_code == 200
    assert variant.headers["Content-Type"] == "image/webp"
    assert decode(variant.content).width == 800
    cached = requests.get(
        f"{body['url']}/resize/800x/format/webp",
        headers={"If-None-Match": variant.headers["ETag"]},
        timeout=30,
    )
    assert cached.status_code == 304

    assert requests.get(f"{server}/readyz", timeout=5).json()["status"] == "ok"
    _a_pack_is_built_by_the_embedded_worker(server, samples)
    assert requests.delete(body["url"], timeout=5).json() == {"status": "success"}
    assert requests.get(body["url"], timeout=5).status_code == 404


def test_a_bad_setting_is_a_clear_error_at_start() -> None:
    env = os.environ | {"IMAGES_PORT": "abc"}
    done = subprocess.run([CLI, "serve"], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    assert "IMAGES_PORT" in done.stderr
    assert "Traceback" not in done.stderr


def _a_pack_is_built_by_the_embedded_worker(server: str, samples: Path) -> None:
    """On the embedded defaults `serve` starts a job worker itself (docs/api.md §8)."""
    with (samples / "dice-alpha-300x225.png").open("rb") as file:
        created = requests.post(
            f"{server}/packs", files={"file": file}, data={"widths": "100"}, timeout=30
        )
    assert created.status_code == 202
    status_url = created.json()["status_url"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = requests.get(status_url, timeout=10).json()
        if state["status"] in ("done", "failed"):
            break
        time.sleep(0.2)
    assert state["status"] == "done", state
    assert requests.get(state["download_url"], timeout=10).status_code == 200


def test_the_embedded_worker_stops_with_the_server(tmp_path: Path) -> None:
    env = os.environ | {
        "IMAGES_PORT": str(free_port()),
        "IMAGES_DATA_DIR": str(tmp_path / "data"),
        "IMAGES_WORKERS": "1",
    }
    process = subprocess.Popen(
        [CLI, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while time.monotonic() < deadline and not workers:
            workers = job_workers(process.pid)
            time.sleep(0.2)
        assert len(workers) == 1
    finally:
        process.terminate()
        process.wait(timeout=60)
    assert not Path(f"/proc/{workers[0]}").exists()
