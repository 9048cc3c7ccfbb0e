"""Who runs a pack: a job whose pack was claimed again (its worker taken for dead) stops at its
next report and touches nothing; a worker of this machine is gone as soon as its process is,
whatever its heartbeat says, and a reused PID is not mistaken for it; one elsewhere is gone
once its own heartbeat is older than the timeout. Real SQLite queue and database."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from huey import SqliteHuey

from images_server.app import create_app
from images_server.db.engine import make_engine
from images_server.db.models import Pack, utcnow
from images_server.jobs import queue
from images_server.packs import store
from images_server.settings import Settings


@pytest.fixture
def huey(tmp_path: Path) -> SqliteHuey:
    return SqliteHuey("claims-test", filename=str(tmp_path / "queue.db"), results=False)


def _pack(database_url: str, pack_id: str) -> None:
    row = Pack(
        id=pack_id,
        status="queued",
        progress=0.0,
        source_namespace="packs",
        source_hash="0" * 64,
        source_name="p",
        options={},
        attempts=0,
        expires_at=utcnow() + timedelta(hours=1),
    )
    store.create(make_engine(database_url), row)


def test_a_job_claimed_again_is_superseded_and_stops(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    create_app(settings)  # makes the embedded database
    database = make_engine(settings.database_url_or_default)
    pack_id = "a" * 32
    _pack(settings.database_url_or_default, pack_id)
    first = store.claim(database, pack_id, stall_seconds=300)
    assert first is not None
    assert first.attempt == 1
    store.report(database, pack_id, 0.2, files_done=1, attempt=first.attempt)
    assert store.requeue(database, pack_id, first.attempt)  # its worker was taken for dead
    second = store.claim(database, pack_id, stall_seconds=300)
    assert second is not None
    assert second.attempt == 2

    with pytest.raises(store.Superseded):
        store.report(database, pack_id, 0.5, files_done=2, attempt=first.attempt)
    with pytest.raises(store.Superseded):
        store.finish(database, pack_id, {"files": []}, first.attempt)
    store.fail(database, pack_id, "from the old job", first.attempt)  # changes nothing
    assert not store.requeue(database, pack_id, first.attempt)
    row = store.get(database, pack_id)
    assert row is not None
    assert (row.status, row.attempts, row.error) == ("processing", 2, None)

    store.report(database, pack_id, 0.5, files_done=2, attempt=second.attempt)
    assert store.finish(database, pack_id, {"files": []}, second.attempt)
    assert store.cancel(database, pack_id) is False  # done
    with pytest.raises(store.Cancelled) as stopped:
        store.report(database, pack_id, 0.9, attempt=second.attempt)
    assert not isinstance(stopped.value, store.Superseded)  # ended, not taken over


def test_a_local_worker_is_gone_with_its_process(huey: SqliteHuey) -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        identity = queue.worker_identity(process.pid)
        queue.beat(huey, worker=identity)  # a fresh beat...
        assert not queue.worker_gone(huey, identity, max_age=60)
        reused = identity.rsplit(" ", 1)[0] + " 1"  # same PID, another start time
        queue.beat(huey, worker=reused)
        assert queue.worker_gone(huey, reused, max_age=60)  # ...not for a reused PID
    finally:
        process.kill()
        process.wait()
    assert queue.worker_gone(huey, identity, max_age=60)  # ...nor once it is dead


def test_a_worker_elsewhere_is_gone_when_its_beat_is_old(huey: SqliteHuey) -> None:
    elsewhere = "other-host 12345 another-boot.1 999"
    assert queue.worker_gone(huey, elsewhere, max_age=60)  # never beat
    now = time.time()
    queue.beat(huey, now=now - 30, worker=elsewhere)
    assert not queue.worker_gone(huey, elsewhere, max_age=60, now=now)
    assert queue.worker_gone(huey, elsewhere, max_age=10, now=now)
    queue.record_claim(huey, "b" * 32, 1, elsewhere)
    assert queue.claimed_by(huey, "b" * 32, 1) == elsewhere
    queue.record_claim(huey, "b" * 32, 2, "me")
    assert queue.claimed_by(huey, "b" * 32, 1) is None  # the claim before is forgotten
    queue.forget_worker(huey, elsewhere)
    assert queue.worker_beat(huey, elsewhere) is None
