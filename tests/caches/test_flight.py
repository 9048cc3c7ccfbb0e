"""One render per variant: `Flights` in one process, the filesystem cache's `flock` per key
between caches that stand for processes, and a real `images-server serve` with two workers."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from images_server.caches.base import CachedResult
from images_server.caches.filesystem import LOCKS_DIR, FilesystemCache
from images_server.caches.flight import Flights, single_flight
from tests.caches.contract import key
from tests.servers import images_server

N = 8


def at_once(n: int, call: Callable[[int], object]) -> list[object]:
    barrier = threading.Barrier(n)

    def run(i: int) -> object:
        barrier.wait()
        return call(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


class Counting:
    """A slow compute that counts its calls; `fail_first` makes the first one raise."""

    def __init__(self, seconds: float = 0.3, fail_first: bool = False) -> None:
        self.calls = 0
        self.seconds = seconds
        self.fail_first = fail_first
        self._lock = threading.Lock()

    def __call__(self) -> CachedResult:
        with self._lock:
            self.calls += 1
            call = self.calls
        time.sleep(self.seconds)
        if self.fail_first and call == 1:
            raise RuntimeError("the leader failed")
        return CachedResult(f"render {call}".encode(), "image/png")


def test_concurrent_callers_share_one_computation() -> None:
    flights, compute = Flights(), Counting()
    results = at_once(N, lambda i: flights.run("k", compute, wait=10))
    assert compute.calls == 1
    assert all(result is results[0] for result in results)
    assert flights.in_flight() == 0


def test_keys_do_not_wait_for_each_other() -> None:
    flights, compute = Flights(), Counting()
    at_once(4, lambda i: flights.run(i, compute, wait=10))
    assert compute.calls == 4


def test_when_the_leader_fails_the_followers_compute_themselves() -> None:
    flights, compute = Flights(), Counting(fail_first=True)

    def call(i: int) -> object:
        try:
            return flights.run("k", compute, wait=10)
        except RuntimeError as error:
            return error

    results = at_once(4, call)
    assert sum(isinstance(result, RuntimeError) for result in results) == 1
    assert all(isinstance(r, CachedResult) for r in results if not isinstance(r, RuntimeError))
    assert compute.calls == 4  # the leader, then every follower on its own
    assert flights.in_flight() == 0


def test_a_follower_waits_no_longer_than_wait() -> None:
    flights = Flights()
    slow, fast = Counting(seconds=3), Counting(seconds=0)
    leader = threading.Thread(target=flights.run, args=("k", slow, 10))
    leader.start()
    time.sleep(0.2)
    started = time.monotonic()
    result = flights.run("k", slow, wait=0.5, alone=fast)
    waited = time.monotonic() - started
    leader.join()
    assert result == CachedResult(b"render 1", "image/png")  # its own, computed alone
    assert 0.4 < waited < 2.0


def test_the_filesystem_lock_serialises_two_caches_on_one_directory(tmp_path: Path) -> None:
    first, second = FilesystemCache(tmp_path, 10**6), FilesystemCache(tmp_path, 10**6)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with first.render_lock(key("a"), timeout=5) as waited:
            assert waited is False
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    started = time.monotonic()
    with second.render_lock(key("a"), timeout=0.3) as waited:
        assert waited is True  # gave up after the timeout, unlocked
    assert 0.25 < time.monotonic() - started < 2
    with second.render_lock(key("b"), timeout=0.3) as waited:
        assert waited is False  # another key is another lock
    threading.Timer(0.3, release.set).start()
    with second.render_lock(key("a"), timeout=5) as waited:
        assert waited is True  # got it once the holder let go
    holder.join()
    assert list((tmp_path / LOCKS_DIR).iterdir()) == []  # every holder removes its file


def test_caches_on_one_directory_render_once(tmp_path: Path) -> None:
    """Two caches on one directory stand for two processes: a render, and seven hits."""
    caches = [FilesystemCache(tmp_path, 10**6) for _ in range(2)]
    compute = Counting()

    def call(i: int) -> CachedResult:
        cache = caches[i % 2]
        hit = cache.get(key("a"))
        if hit is not None:
            return hit

        def render() -> CachedResult:
            result = compute()
            cache.put(key("a"), result)
            return result

        return single_flight(cache, key("a"), render, wait=10)

    results = at_once(N, call)
    assert compute.calls == 1
    assert {result for result in results} == {CachedResult(b"render 1", "image/png")}


_RENDERS = re.compile(
    r'^images_render_stage_duration_seconds_count\{engine="vips",stage="decode_ops"\} (\S+)$',
    re.MULTILINE,
)


def renders(base: str) -> int:
    found = _RENDERS.search(requests.get(f"{base}/metrics", timeout=30).text)
    return int(float(found.group(1))) if found else 0


@pytest.mark.parametrize("cache", ["filesystem"])
def test_eight_first_requests_for_one_variant_render_once(
    tmp_path: Path, samples: Path, cache: str
) -> None:
    env = {"IMAGES_CACHE": cache, "IMAGES_EAGER_PRESETS": "", "IMAGES_ENGINE": "vips"}
    with images_server(tmp_path / "data", env) as base:
        photo = (samples / "photo-12mp-4000x3000.jpg").read_bytes()
        upload = requests.post(f"{base}/upload", files={"file": ("p.jpg", photo)}, timeout=60)
        assert upload.status_code == 201, upload.text
        url = f"{base}/image/{upload.json()['hash']}/resize/1600x/blur/3/format/png"
        before = renders(base)
        answers = at_once(N, lambda i: requests.get(url, timeout=120))
        statuses = [answer.status_code for answer in answers]  # type: ignore[attr-defined]
        assert statuses == [200] * N, [a.text[:200] for a in answers]  # type: ignore[attr-defined]
        bodies = {answer.content for answer in answers}  # type: ignore[attr-defined]
        assert len(bodies) == 1
        assert renders(base) - before == 1
