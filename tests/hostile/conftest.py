"""Fixtures and checks shared by the hostile-input tests: an app on a temp data dir with the
rate limits off (a corpus is many requests from one client), the loopback origin of
`tests/http/conftest.py`, and the assertions every hostile answer must pass: the JSON error
shape of docs/api.md §2, never a 5xx, and no file left behind in the data dir.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from images_server.settings import Settings
from tests.origin import Origin, serving

NO_RATE_LIMITS: dict[str, object] = {
    "rate_limit_uploads": "0",
    "rate_limit_external": "0",
    "rate_limit_renders": "0",
}
TEMP_PREFIX = ".tmp-"


def hostile_settings(data_dir: Path, engine: str, **overrides: object) -> Settings:
    """Default limits (the corpus expectations assume them), no rate limits."""
    values: dict[str, object] = {"data_dir": data_dir, "engine": engine, **NO_RATE_LIMITS}
    return Settings(**(values | overrides))  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path, engine_name: str) -> Settings:
    return hostile_settings(tmp_path / "data", engine_name)


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    """A loopback origin (tests/origin.py), once per module: it serves `routes`."""
    with serving(Origin()) as running:
        yield running


def _is_database_file(name: str) -> bool:
    """The embedded metadata database, its lock and the job queue: not stored bytes."""
    return name.startswith(("images.db", "queue.db")) or name == ".migrate.lock"


def files_under(root: Path) -> set[str]:
    """Every stored file below `root` (not the metadata database), as paths relative to it."""
    if not root.exists():
        return set()
    names = {str(path.relative_to(root)) for path in root.rglob("*") if not path.is_dir()}
    return {name for name in names if not _is_database_file(name)}


def temp_files(root: Path) -> set[str]:
    return {name for name in files_under(root) if Path(name).name.startswith(TEMP_PREFIX)}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def describe(response: TestResponse) -> str:
    return f"{response.status_code} {response.get_data()[:300]!r}"


def assert_error(response: TestResponse, status: int, code: str | None) -> None:
    """The answer is `status`, in the JSON error shape of docs/api.md §2, with `code` if given."""
    assert response.status_code < 500 or status >= 500, describe(response)
    assert response.status_code == status, describe(response)
    assert response.mimetype == "application/json", describe(response)
    body = response.get_json()
    assert isinstance(body, dict), describe(response)
    assert set(body) >= {"status", "message", "code"}, body
    assert body["status"] == "error", body
    assert isinstance(body["message"], str), body
    assert body["message"], body
    assert isinstance(body["code"], str), body
    assert body["code"].replace("_", "").isalpha(), body
    assert body["code"].islower(), body
    if code is not None:
        assert body["code"] == code, body
    assert response.headers.get("X-Content-Type-Options") == "nosniff"


def assert_healthy(client: FlaskClient) -> None:
    health = client.get("/healthz")
    assert health.status_code == 200, describe(health)
    ready = client.get("/readyz")
    assert ready.status_code == 200, describe(ready)
