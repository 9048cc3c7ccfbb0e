"""Eager variants: the plans a worker renders are the plans requests make, and a real
`images-server worker` (SQLite queue and Redis queue) fills the result cache after an upload,
before anyone asks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

import pytest
from flask import Flask

from images_server.app import create_app
from images_server.hashing import parse_hash
from images_server.jobs.variants import eager_plans
from images_server.render import cache_key
from images_server.services import Services
from images_server.settings import Settings
from tests.conftest_redis import RedisServer
from tests.images import quadrant_bytes
from tests.servers import stop

CLI = str(Path(sys.executable).parent / "images-server")
WAIT = 60.0  # generous: the worker polls every 0.5 s at most; AVIF takes a moment


def _services(app: Flask) -> Services:
    return cast(Services, app.extensions["images"])


def _upload(app: Flask) -> str:
    data = quadrant_bytes(640, 480, "jpeg")
    response = app.test_client().post("/upload", data=data, content_type="image/jpeg")
    assert response.status_code == 201
    return str(response.get_json()["hash"])


def _cached(app: Flask, digest: str) -> list[bool]:
    services = _services(app)
    ref = parse_hash(digest)
    return [
        services.cache.get(cache_key(services, ref, plan)) is not None
        for plan in eager_plans(services.settings)
    ]


def test_eager_plans_are_the_plans_requests_make(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, eager_formats=("avif", "webp", "source")))
    services = _services(app)
    digest = _upload(app)
    client = app.test_client()
    requests = [
        ("/format/auto?size=thumb", {"Accept": "image/avif,image/webp,*/*"}),
        ("/preset/thumb/format/webp", {}),
        ("?size=thumb", {}),
        ("/format/auto?size=medium", {"Accept": "image/avif"}),
        ("?size=medium&format=webp", {}),
        ("?size=medium", {"Accept": "text/html"}),
    ]
    for suffix, headers in requests:  # each request renders and caches one variant
        assert client.get(f"/image/{digest}{suffix}", headers=headers).status_code == 200
    assert all(_cached(app, digest))
    assert len(eager_plans(services.settings)) == 6


@pytest.fixture
def worker_env(tmp_path: Path) -> dict[str, str]:
    return os.environ | {"IMAGES_DATA_DIR": str(tmp_path / "data")}


@pytest.fixture
def start_worker(worker_env: dict[str, str]) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        stop(process)


def _run_worker(env: dict[str, str], started: list[subprocess.Popen[bytes]]) -> None:
    process = subprocess.Popen(
        [CLI, "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    started.append(process)


def _wait_until_cached(app: Flask, digest: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if all(_cached(app, digest)):
            return
        assert process.poll() is None, "the worker exited"
        time.sleep(0.2)
    pytest.fail(f"eager variants not cached after {WAIT} s: {_cached(app, digest)}")


def _app_for(env: dict[str, str]) -> Flask:
    names = ("IMAGES_DATA_DIR", "IMAGES_QUEUE_URL")
    values = {name.removeprefix("IMAGES_").lower(): env[name] for name in names if name in env}
    return create_app(Settings(**values))  # type: ignore[arg-type]


def test_a_worker_on_the_sqlite_queue_warms_the_cache(
    worker_env: dict[str, str], start_worker: list[subprocess.Popen[bytes]]
) -> None:
    app = _app_for(worker_env)
    digest = _upload(app)
    assert not any(_cached(app, digest))  # nothing rendered by the upload itself
    _run_worker(worker_env, start_worker)
    _wait_until_cached(app, digest, start_worker[0])
    client = app.test_client()
    warm = client.get(f"/image/{digest}/format/auto?size=thumb", headers={"Accept": "image/avif"})
    assert warm.status_code == 200
    assert warm.mimetype == "image/avif"


def test_a_worker_on_the_redis_queue_warms_the_cache(
    worker_env: dict[str, str],
    start_worker: list[subprocess.Popen[bytes]],
    redis_url: str,
) -> None:
    env = worker_env | {"IMAGES_QUEUE_URL": redis_url}
    _run_worker(env, start_worker)  # already waiting when the job comes
    app = _app_for(env)
    assert app.test_client().get("/readyz").get_json()["checks"]["queue"] == "ok"
    digest = _upload(app)
    _wait_until_cached(app, digest, start_worker[0])


def test_an_upload_succeeds_while_the_queue_is_down(
    tmp_path: Path, start_redis: Callable[[], RedisServer]
) -> None:
    redis = start_redis()
    app = create_app(Settings(data_dir=tmp_path, queue_url=f"{redis.url}/0"))
    redis.stop()
    digest = _upload(app)
    assert app.test_client().get(f"/image/{digest}").status_code == 200
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert "queue" in ready.get_json()["checks"]
