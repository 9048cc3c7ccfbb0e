"""`POST /packs` while the job queue is down: `503` JSON, and nothing is left behind (no pack
row, no stored source) that a worker would build later for nobody; once the queue is back, a
pack is accepted and queued. A real Redis queue, stopped and started again on its port."""

from __future__ import annotations

import io
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from images_server.app import create_app
from images_server.db.models import Pack
from images_server.jobs.tasks import Jobs
from images_server.services import Services
from images_server.settings import Settings
from tests.conftest_redis import RedisServer, _binary
from tests.servers import stop


def _restart(server: RedisServer, directory: Path) -> subprocess.Popen[bytes]:
    """redis-server again on the stopped server's port (the app's queue URL names it)."""
    args = [_binary(), "--port", str(server.port), "--bind", "127.0.0.1"]
    args += ["--save", "", "--appendonly", "no", "--dir", str(directory)]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    again = RedisServer(process, server.port, server.log)
    for _ in range(200):
        if again.answers():
            return process
        time.sleep(0.05)
    stop(process)
    raise AssertionError("redis-server did not start again")


def _packs(services: Services) -> int:
    assert services.database is not None
    with Session(services.database) as session:
        return int(session.execute(select(func.count()).select_from(Pack)).scalar_one())


def _stored_sources(services: Services) -> list[Path]:
    root = Path(services.settings.originals_dir) / "packs"
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def _post(client: FlaskClient, photo: bytes) -> tuple[int, dict[str, object]]:
    form = {"file": (io.BytesIO(photo), "p.jpg"), "widths": "160", "formats": "webp"}
    response = client.post("/packs", data=form)
    body = response.get_json()
    assert isinstance(body, dict)
    return response.status_code, body


def test_a_pack_posted_while_the_queue_is_down_leaves_nothing(
    tmp_path: Path, start_redis: Callable[[], RedisServer], samples: Path
) -> None:
    redis = start_redis()
    settings = Settings(data_dir=tmp_path / "data", queue_url=f"{redis.url}/0", eager_presets=())
    app = create_app(settings)
    services: Services = app.extensions["images"]
    assert isinstance(services.jobs, Jobs)
    client = app.test_client()
    photo = (samples / "photo-1mp-1200x900.jpg").read_bytes()
    redis.stop()

    status, body = _post(client, photo)
    assert status == 503, body
    assert body["status"] == "error"
    assert "job queue" in str(body["message"])
    assert _packs(services) == 0  # no row: nothing is queued for a worker to find later
    assert _stored_sources(services) == []  # nor the source it would have read

    back = _restart(redis, tmp_path)
    try:
        status, body = _post(client, photo)
        assert status == 202, body
        assert _packs(services) == 1
        assert len(_stored_sources(services)) == 1
        assert services.jobs.huey.pending_count() == 1  # its job waits for a worker
        state = client.get(f"/packs/{body['id']}").get_json()
        assert state["status"] == "queued"
    finally:
        stop(back)
