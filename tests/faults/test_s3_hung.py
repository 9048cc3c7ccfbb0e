"""An S3 endpoint that hangs (accepts connections, never answers) or dies, under a real
`images-server serve`.

The endpoint is a moto server of this module's own, frozen with SIGSTOP. Renders that need
the original and uploads answer a JSON 503 with `Retry-After` in about 9 s (two attempts of a
4 s read timeout), far below the 35 s after which gunicorn would kill the worker and answer an
HTML 500; cached variants and `/healthz` never wait; after SIGCONT the same server serves and
stores again, without a restart.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import boto3.session
import pytest
import requests

from tests.conftest_s3 import AWS_REGION, _moto_server_binary, _wait_until_up
from tests.faults.support import assert_answered, assert_unavailable, at_once, frozen, timed
from tests.images import quadrant_bytes
from tests.servers import free_port, images_server, stop

BUCKET = "faults"
HUNG_WITHIN = 15.0  # seconds: measured about 9; gunicorn kills a worker at 35
FAST = 3.0  # seconds for what must not wait on S3 at all


@pytest.fixture(scope="module")
def moto(aws_env: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A moto server of this module's own (the session's stays healthy): URL and pid."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("moto-faults") / "moto.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [_moto_server_binary(), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        _wait_until_up(process, url, log)
        client = boto3.session.Session().client("s3", endpoint_url=url, region_name=AWS_REGION)
        client.create_bucket(Bucket=BUCKET)
        client.close()
        yield url, process.pid
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGCONT)
        stop(process, timeout=10)


def _upload(base: str, data: bytes) -> requests.Response:
    return requests.post(f"{base}/upload", files={"file": ("q.png", data)}, timeout=60)


def _get(base: str, path: str) -> requests.Response:
    return requests.get(f"{base}{path}", timeout=60)


def test_a_hung_then_dead_endpoint_is_a_quick_503(moto: tuple[str, int], tmp_path: Path) -> None:
    endpoint, pid = moto
    env = {
        "IMAGES_STORAGE": "s3",
        "IMAGES_S3_BUCKET": BUCKET,
        "IMAGES_S3_ENDPOINT_URL": endpoint,
        "IMAGES_S3_REGION": AWS_REGION,
        "IMAGES_EAGER_PRESETS": "",
        "IMAGES_THREADS": "4",
    }
    with images_server(tmp_path / "data", env) as base:
        first = _upload(base, quadrant_bytes(60, 40))
        assert first.status_code == 201, first.text
        image = f"/image/{first.json()['hash']}"
        assert _get(base, f"{image}/resize/30x").status_code == 200  # now in the result cache

        with frozen(pid):
            cached, healthz, uncached, upload = at_once(
                lambda: _get(base, f"{image}/resize/30x"),
                lambda: _get(base, "/healthz"),
                lambda: _get(base, f"{image}/resize/20x"),
                lambda: _upload(base, quadrant_bytes(61, 40)),
            )
            assert_answered(cached, 200, FAST)
            assert_answered(healthz, 200, FAST)
            assert_unavailable(uncached, HUNG_WITHIN, "service_unavailable")
            assert_unavailable(upload, HUNG_WITHIN, "service_unavailable")
            assert b"did not answer in time" in uncached.body

        # Thawed: the same server renders and stores again, and the upload is readable.
        assert _get(base, f"{image}/resize/20x").status_code == 200
        second = _upload(base, quadrant_bytes(61, 40))
        assert second.status_code == 201, second.text
        assert _get(base, f"/image/{second.json()['hash']}").status_code == 200

        os.kill(pid, signal.SIGKILL)  # dead: connections refused, a 503 sooner still
        dead = timed(lambda: _get(base, f"{image}/resize/10x"))
        assert_unavailable(dead, 5.0, "service_unavailable")
        assert _get(base, f"{image}/resize/30x").status_code == 200
