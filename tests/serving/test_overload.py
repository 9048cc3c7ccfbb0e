"""Render admission on a real server: past its render slots and wait queue a worker answers
`503 overloaded` with `Retry-After` at once, never `429` for being busy, and cache hits are
served meanwhile (docs/api.md §2)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from tests.serving.server import serving

ENV = {
    "IMAGES_WORKERS": "1",
    "IMAGES_THREADS": "8",
    "IMAGES_MAX_CONCURRENT_RENDERS": "1",
    "IMAGES_RENDER_QUEUE": "1",
    "IMAGES_RENDER_QUEUE_TIMEOUT": "2",
    "IMAGES_RENDER_TIMEOUT": "5",
}
SLOW = 6  # distinct uncached renders of several seconds each, sent together


def test_renders_past_the_slots_and_queue_are_shed_and_cache_hits_go_on(
    tmp_path: Path, samples: Path
) -> None:
    with serving(tmp_path, ENV) as served:
        photo = (samples / "photo-12mp-4000x3000.jpg").read_bytes()
        url = requests.post(f"{served.base}/upload", files={"file": photo}, timeout=30).json()[
            "url"
        ]
        cached = f"{url}/resize/100x"
        assert requests.get(cached, timeout=30).status_code == 200

        with ThreadPoolExecutor(SLOW) as pool:
            slow = [
                pool.submit(requests.get, f"{url}/resize/5000x/blur/4{i}", timeout=60)
                for i in range(SLOW)
            ]
            time.sleep(0.5)  # the renders are admitted, queued or refused by now
            hits = []
            while not all(future.done() for future in slow):
                started = time.monotonic()
                hit = requests.get(cached, timeout=30)
                hits.append((hit.status_code, time.monotonic() - started))
                time.sleep(0.1)
            answers = [future.result() for future in slow]

    codes = [answer.json()["code"] for answer in answers]
    assert all(answer.status_code == 503 for answer in answers), codes
    assert "rate_limited" not in codes
    assert codes.count("overloaded") >= SLOW - 2, codes  # one renders, one may wait
    for answer in answers:
        assert answer.headers["Content-Type"] == "application/json"
        assert int(answer.headers["Retry-After"]) >= 1
    assert hits, "the slow renders ended before any cache hit was tried"
    assert all(status == 200 for status, _ in hits), hits
    assert max(seconds for _, seconds in hits) < 2.0, hits
