"""`wiring`: every service built in one pass from the settings, the job queue included, with
nothing pointing back at the services that hold it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from images_server.caches.null import NullCache
from images_server.jobs.tasks import Jobs
from images_server.settings import Settings
from images_server.storages.memory import MemoryStorage
from images_server.wiring import build, for_web, in_memory


def test_one_pass_builds_the_services_and_the_queue_they_hold(tmp_path: Path) -> None:
    built = build(Settings(data_dir=tmp_path / "data"), worker="host 1 - 0")
    services, jobs = built.services, built.jobs
    assert isinstance(jobs, Jobs)
    assert services.jobs is jobs
    assert jobs.identity == "host 1 - 0"
    # The tasks run on the same parts, through services that hold no queue: no cycle.
    assert jobs.services.jobs is None
    assert (jobs.services.storage, jobs.services.cache) == (services.storage, services.cache)
    assert jobs.services.database is services.database
    assert services.key_checker is not None
    assert dataclasses.is_dataclass(services)
    assert services.__dataclass_params__.frozen  # type: ignore[attr-defined]


def test_a_queue_that_cannot_open_leaves_the_rest(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "queue.db").mkdir()  # a directory where the queue's file should be
    built = build(Settings(data_dir=tmp_path / "data"))
    assert built.jobs is None
    assert built.services.jobs is None
    assert built.services.database is not None


def test_hand_built_services_get_their_api_keys(tmp_path: Path) -> None:
    services = in_memory(Settings(data_dir=tmp_path, api_keys=("alice:0123456789abcdef",)))
    assert isinstance(services.storage, MemoryStorage)
    assert isinstance(services.cache, NullCache)
    assert (services.database, services.jobs, services.key_checker) == (None, None, None)
    web = for_web(services.settings, services)
    assert web.key_checker is not None
    assert web.key_checker.authenticate("Bearer 0123456789abcdef", write=True) == "alice"
    assert for_web(web.settings, web) is web
