"""A render past `IMAGES_RENDER_TIMEOUT` is answered `503 render_timeout` on time even when
its encoder cannot be interrupted (libaom, AVIF), and the worker lives on: on a real server."""

from __future__ import annotations

import time
from pathlib import Path

import requests

from tests.images import decode
from tests.serving.server import serving
from tests.serving.sources import noisy_webp

TIMEOUT = 1.0


def test_an_avif_encode_past_the_deadline_is_a_timely_503(tmp_path: Path) -> None:
    env = {
        "IMAGES_WORKERS": "1",
        "IMAGES_RENDER_TIMEOUT": str(TIMEOUT),
        "IMAGES_RENDER_QUEUE_TIMEOUT": "60",  # the next render waits for the abandoned encode
    }
    with serving(tmp_path, env) as served:
        workers = served.workers()
        uploaded = requests.post(
            f"{served.base}/upload", files={"file": noisy_webp(4000, 2667)}, timeout=30
        )
        assert uploaded.status_code == 201, uploaded.text
        url = uploaded.json()["url"]

        started = time.monotonic()
        slow = requests.get(f"{url}/format/avif/quality/100", timeout=60)  # 4.8 s idle
        took = time.monotonic() - started
        assert slow.status_code == 503
        assert slow.headers["Content-Type"] == "application/json"
        assert slow.json()["code"] == "render_timeout"
        assert int(slow.headers["Retry-After"]) >= 1
        assert took < TIMEOUT + 3, took

        after = requests.get(f"{url}/resize/200x/format/jpeg", timeout=60)
        assert after.status_code == 200
        assert decode(after.content).width == 200
        assert served.workers() == workers  # the same worker served it: none was killed
    assert "WORKER TIMEOUT" not in served.log_text()
