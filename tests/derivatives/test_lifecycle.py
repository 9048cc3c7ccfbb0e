"""Through the app: a real `images-server worker` builds the derivatives after an upload,
renders read the original until then and the copy after; DELETE removes them with the original
(and a DELETE whose commit fails puts the original back without them); no URL serves one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import cast

import pytest
from flask import Flask

from images_server import derivatives
from images_server.app import create_app
from images_server.hashing import ImageRef, parse_hash
from images_server.services import Services
from images_server.settings import Settings
from tests.catalog.support import failing_commits
from tests.derivatives.support import plan_of
from tests.servers import stop

CLI = str(Path(sys.executable).parent / "images-server")
WAIT = 60.0
PIPELINE = "resize/300x200^/crop/300x200"


def _services(app: Flask) -> Services:
    return cast(Services, app.extensions["images"])


def _parts(ref: ImageRef) -> list[ImageRef]:
    levels = [derivatives.level_ref(ref, n) for n in range(1, derivatives.MAX_LEVELS + 1)]
    return [derivatives.manifest_ref(ref), *levels]


def _upload(app: Flask, data: bytes) -> ImageRef:
    response = app.test_client().post("/upload", data=data, content_type="image/jpeg")
    assert response.status_code == 201, response.get_json()
    return parse_hash(str(response.get_json()["hash"]))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def app(data_dir: Path) -> Flask:
    return create_app(Settings(data_dir=data_dir, derivatives=True, eager_presets=()))


def _wait_for_manifest(services: Services, ref: ImageRef, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if services.storage.exists(derivatives.manifest_ref(ref)):
            return
        assert process.poll() is None, "the worker exited"
        time.sleep(0.2)
    pytest.fail(f"no derivatives after {WAIT} s")


def test_a_worker_builds_them_and_renders_then_read_them(
    app: Flask, samples: Path, data_dir: Path
) -> None:
    services = _services(app)
    client = app.test_client()
    ref = _upload(app, (samples / "photo-12mp-4000x3000.jpg").read_bytes())
    assert derivatives.choose(services, ref, plan_of(PIPELINE)) is None  # not built yet
    before = client.get(f"/image/{ref.hash}/{PIPELINE}")
    assert before.status_code == 200  # from the original
    env = os.environ | {
        "IMAGES_DATA_DIR": str(data_dir),
        "IMAGES_DERIVATIVES": "true",
        "IMAGES_EAGER_PRESETS": "",
    }
    process = subprocess.Popen(
        [CLI, "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        _wait_for_manifest(services, ref, process)
    finally:
        stop(process)
    chosen = derivatives.choose(services, ref, plan_of(PIPELINE))
    assert chosen is not None
    assert chosen.level.n == 3  # 500x375: the smallest at least 1.25x of 300x225
    after = client.get(f"/image/{ref.hash}/{PIPELINE}/format/png")  # a miss, from the copy
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]  # another variant, another key
    # no URL names a copy: its hash is no original
    for part in _parts(ref)[:2]:
        assert client.get(f"/image/{part.hash}/resize/100x").status_code == 404
    derivatives_dir = data_dir / "originals" / "derivatives"
    assert len([p for p in derivatives_dir.rglob("*") if p.is_file()]) == 4  # manifest, ¼ ⅛ 1/16
    assert client.delete(f"/image/{ref.hash}").status_code == 200
    assert not any(services.storage.exists(part) for part in _parts(ref))
    assert not services.storage.exists(ref)
    assert not [p for p in derivatives_dir.rglob("*") if p.is_file()]


def test_a_failing_delete_puts_the_original_back_without_copies(app: Flask, samples: Path) -> None:
    services = _services(app)
    ref = _upload(app, (samples / "photo-12mp-4000x3000.jpg").read_bytes())
    assert derivatives.build(services, ref).levels
    with failing_commits() as failed:
        response = app.test_client().delete(f"/image/{ref.hash}")
    assert failed
    assert response.status_code == 503
    assert services.storage.exists(ref)
    assert not any(services.storage.exists(part) for part in _parts(ref))
    assert derivatives.choose(services, ref, plan_of(PIPELINE)) is None
    assert app.test_client().get(f"/image/{ref.hash}/{PIPELINE}").status_code == 200
