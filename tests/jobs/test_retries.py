"""Failures in background jobs: a backing service that is down is retried with backoff until it
answers; an image that can never render is not retried. A real huey consumer (threads) runs the
real task on a SQLite queue, over services whose storage fails on purpose."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from images_server.caches.memory import MemoryCache
from images_server.engines import build_engine
from images_server.errors import ServiceUnavailable
from images_server.hashing import ImageRef, Namespace, original_ref
from images_server.jobs.queue import build_queue
from images_server.jobs.tasks import Jobs
from images_server.jobs.variants import eager_plans
from images_server.render import cache_key
from images_server.security.fetch import FetchPolicy
from images_server.services import Services
from images_server.settings import Settings
from images_server.storages.memory import MemoryStorage
from tests.images import quadrant_bytes

WAIT = 30.0


class FlakyStorage(MemoryStorage):
    """A memory storage whose first `failures` reads of an original fail as if its server
    were down (`reads` counts those; a render also looks for the original's derivatives)."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.reads: list[float] = []

    def get(self, ref: ImageRef) -> bytes:
        if ref.namespace is not Namespace.ORIGINALS:
            return super().get(ref)
        self.reads.append(time.monotonic())
        if len(self.reads) <= self.failures:
            raise ServiceUnavailable("storage: connection refused (injected)")
        return super().get(ref)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, eager_presets=("thumb",), eager_formats=("webp",))


def _services(settings: Settings, storage: MemoryStorage) -> Services:
    return Services(
        settings=settings,
        storage=storage,
        cache=MemoryCache(max_bytes=10_000_000),
        engine=build_engine("vips"),
        fetch_policy=FetchPolicy.from_settings(settings),
    )


Running = Callable[[Services], Jobs]


@pytest.fixture
def running(settings: Settings) -> Iterator[Running]:
    """Start a consumer of the queue's tasks on given services; stopped when the test ends."""
    consumers = []

    def start(services: Services) -> Jobs:
        jobs = Jobs(build_queue(settings), services, retry_delay=0.1)
        consumer = jobs.huey.create_consumer(
            workers=1, worker_type="thread", initial_delay=0.01, max_delay=0.05, periodic=False
        )
        consumer.start()
        consumers.append(consumer)
        return jobs

    yield start
    for consumer in consumers:
        consumer.stop(graceful=True)


def _wait(condition: object, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.05)
    pytest.fail(f"not within {WAIT} s: {what}")


def test_a_storage_outage_is_retried_until_it_answers(settings: Settings, running: Running) -> None:
    storage = FlakyStorage(failures=2)
    services = _services(settings, storage)
    jobs = running(services)
    data = quadrant_bytes(320, 240, "jpeg")
    ref = original_ref(data)
    storage.put(ref, data)
    assert jobs.enqueue_after_upload(ref)
    key = cache_key(services, ref, eager_plans(settings)[0])
    _wait(lambda: services.cache.get(key) is not None, "the variant rendered after two failures")
    assert len(storage.reads) == 3
    first_wait = storage.reads[1] - storage.reads[0]
    second_wait = storage.reads[2] - storage.reads[1]
    assert first_wait >= 0.1  # retry_delay
    assert second_wait >= 0.2  # doubled: backoff


def test_an_image_that_cannot_render_is_not_retried(settings: Settings, running: Running) -> None:
    storage = FlakyStorage(failures=0)
    services = _services(settings, storage)
    jobs = running(services)
    ref = original_ref(b"never stored")
    assert jobs.enqueue_after_upload(ref)
    _wait(lambda: len(storage.reads) >= 1, "the job ran")
    time.sleep(1.5)  # longer than every retry delay together would first allow one
    assert len(storage.reads) == 1  # ImageNotFound: cancelled, not retried
