"""A Redis that hangs (SIGSTOP) or dies, as the job queue and as the rate-limit store.

Each test starts a Redis of its own (`start_redis`). The queue: under a real `images-server
serve`, an upload is stored and answered `201` within about 2 s (its eager variants, queued
best effort, are logged as not queued) and `/readyz` is a JSON 503 with `Retry-After`; after
SIGCONT the next upload's job is queued again. The rate-limit store fails open, as it does for
a dead one: requests are allowed, unlimited, within half a second (docs/api.md §2, `429`), and
the limits apply again, with the counts Redis kept, once it answers.
"""

from __future__ import annotations

import io
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from flask import Flask

from images_server.app import create_app
from images_server.jobs.queue import build_queue
from images_server.settings import Settings
from tests.conftest_redis import RedisServer
from tests.faults.support import assert_answered, assert_unavailable, at_once, frozen, timed, until
from tests.images import quadrant_bytes
from tests.servers import images_server

HUNG_WITHIN = 10.0  # seconds for a 503; measured about 2
UPLOAD_WITHIN = 8.0  # seconds for an upload whose enqueue hangs; measured about 2


def _upload(base: str, data: bytes) -> requests.Response:
    return requests.post(f"{base}/upload", files={"file": ("q.png", data)}, timeout=60)


def test_a_hung_queue_never_fails_an_upload(
    start_redis: Callable[[], RedisServer], tmp_path: Path
) -> None:
    redis = start_redis()
    queue = build_queue(Settings(data_dir=tmp_path / "probe", queue_url=redis.url))
    env = {"IMAGES_QUEUE_URL": redis.url, "IMAGES_THREADS": "4"}
    with images_server(tmp_path / "data", env) as base:
        assert _upload(base, quadrant_bytes(60, 40)).status_code == 201
        queued = queue.pending_count()
        assert queued >= 1  # the eager variants' job: no worker runs here

        with frozen(redis.process.pid):
            upload, ready, healthz = at_once(
                lambda: _upload(base, quadrant_bytes(61, 40)),
                lambda: requests.get(f"{base}/readyz", timeout=60),
                lambda: requests.get(f"{base}/healthz", timeout=60),
            )
            assert upload.status == 201, upload.body[:300]
            assert upload.seconds < UPLOAD_WITHIN, upload
            assert_unavailable(ready, HUNG_WITHIN, "not_ready")
            assert_answered(healthz, 200, 2.0)
            stored = upload.json()["hash"]
            assert requests.get(f"{base}/image/{stored}", timeout=60).status_code == 200

        assert requests.get(f"{base}/image/{stored}", timeout=60).status_code == 200
        # The enqueue that timed out may still land now: its command was already sent.
        before = queue.pending_count()
        assert before in (queued, queued + 1)
        assert _upload(base, quadrant_bytes(62, 40)).status_code == 201
        assert queue.pending_count() == before + 1  # queued again, without a restart

        os.kill(redis.process.pid, signal.SIGKILL)  # dead: refused at once
        dead = timed(lambda: _upload(base, quadrant_bytes(63, 40)))
        assert_answered(dead, 201, UPLOAD_WITHIN)


def _app(tmp_path: Path, redis: RedisServer) -> Flask:
    settings = Settings(
        data_dir=tmp_path / "data",
        engine="vips",
        rate_limit_storage_url=redis.url,
        rate_limit_uploads="2/minute",
        eager_presets=(),
    )
    return create_app(settings)


def _post(app: Flask, data: bytes) -> Any:
    return app.test_client().post("/upload", data={"file": (io.BytesIO(data), "q.png")})


def test_a_hung_rate_limit_store_fails_open(
    start_redis: Callable[[], RedisServer], tmp_path: Path
) -> None:
    redis = start_redis()
    app = _app(tmp_path, redis)
    assert _post(app, quadrant_bytes(60, 40)).status_code == 201
    assert _post(app, quadrant_bytes(61, 40)).status_code == 201
    assert _post(app, quadrant_bytes(62, 40)).status_code == 429  # the limit works

    with frozen(redis.process.pid):
        allowed = timed(lambda: _post(app, quadrant_bytes(63, 40)))
        assert_answered(allowed, 201, 2.0)
        ready = timed(lambda: app.test_client().get("/readyz"))
        assert_unavailable(ready, HUNG_WITHIN, "not_ready")
        assert b"rate-limit store" in ready.body

    # Redis answers again and kept its counts: the limit applies again within seconds.
    until(lambda: _post(app, quadrant_bytes(64, 40)).status_code == 429, 10, "limits back")

    os.kill(redis.process.pid, signal.SIGKILL)
    dead = timed(lambda: _post(app, quadrant_bytes(65, 40)))
    assert_answered(dead, 201, 2.0)
