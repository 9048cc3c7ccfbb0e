"""`/healthz` and `/readyz`: readiness names what is down (storage, cache, rate-limit Redis)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from images_server.app import create_app
from images_server.settings import Settings
from tests.conftest_redis import RedisServer


def test_ready_with_redis_and_not_ready_without(
    tmp_path: Path, start_redis: Callable[[], RedisServer]
) -> None:
    redis = start_redis()
    settings = Settings(data_dir=tmp_path, rate_limit_storage_url=redis.url)
    client = create_app(settings).test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {
        "storage": "ok",
        "cache": "ok",
        "database": "ok",
        "queue": "ok",
        "workers": "ok",
        "rate_limit": "ok",
    }
    redis.stop()
    down = client.get("/readyz")
    assert down.status_code == 503
    assert down.get_json()["message"] == "unavailable: rate_limit"
    assert client.get("/healthz").status_code == 200  # alive, just not ready


def test_not_ready_when_storage_is_unwritable(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data dir should be")
    client = create_app(Settings(data_dir=blocker)).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "storage" in response.get_json()["checks"]
