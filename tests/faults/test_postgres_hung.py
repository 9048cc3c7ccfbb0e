"""A PostgreSQL server that hangs (SIGSTOP: connections accepted, nothing answered), then dies.

The server is a cluster of this module's own; the app is `create_app` on it, driven by Flask's
test client from several threads at once. A stopped server cannot enforce its own
`statement_timeout` and its kernel keeps acknowledging TCP, so only the client's deadline ends
the wait: about 6 s for the requests in flight when it hung, then the engine fails at once.
Public images read lately keep being served (a cached variant, and a render from the stored
original); a private image, an upload and `/metadata` are a JSON 503 `database_unavailable`
with `Retry-After`. After SIGCONT the same app recovers by itself within seconds.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from images_server.app import create_app
from images_server.db.migrate import upgrade
from images_server.settings import Settings
from tests.conftest_postgres import PostgresServer, _start
from tests.faults.support import assert_answered, assert_unavailable, at_once, frozen, timed, until
from tests.images import quadrant_bytes

HUNG_WITHIN = 10.0  # seconds: measured about 6 (the client's deadline); gunicorn kills at 35
FAST = 2.0  # seconds, once the engine knows the server hangs


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    """A cluster of this module's own, so the session's stays healthy."""
    root = Path(tempfile.mkdtemp(prefix="images-postgres-faults-"))
    try:
        server = _start(root)
        try:
            upgrade(server.url)
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _postmaster(server: PostgresServer) -> int:
    return int((server.data_dir / "postmaster.pid").read_text().split()[0])


@pytest.fixture
def app(postgres: PostgresServer, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(Settings(data_dir=tmp_path / "data", database_url=postgres.url, engine="vips"))
    yield app
    database = app.extensions["images"].database
    if database is not None:
        database.dispose()


def _upload(app: Flask, data: bytes, public: str = "true") -> Any:
    form = {"file": (io.BytesIO(data), "q.png"), "public": public}
    return app.test_client().post("/upload", data=form)


def test_a_hung_database_spares_public_images(app: Flask, postgres: PostgresServer) -> None:
    public = _upload(app, quadrant_bytes(60, 40))
    private = _upload(app, quadrant_bytes(62, 40), public="false")
    assert public.status_code == 201
    assert private.status_code == 201
    image = f"/image/{public.get_json()['hash']}"
    secret = f"/image/{private.get_json()['hash']}"
    client = app.test_client()
    assert client.get(f"{image}/resize/30x").status_code == 200  # cached from now on
    signed = client.post(f"{secret}/signed-url", json={"operations": "resize/30x"})
    assert client.get(signed.get_json()["url"]).status_code == 200  # cached too

    with frozen(_postmaster(postgres)):
        cached, healthz, rendered, hidden, upload = at_once(
            lambda: app.test_client().get(f"{image}/resize/30x"),
            lambda: app.test_client().get("/healthz"),
            lambda: app.test_client().get(f"{image}/resize/20x"),
            lambda: app.test_client().get(f"{secret}/resize/30x"),
            lambda: _upload(app, quadrant_bytes(64, 40)),
        )
        assert_answered(cached, 200, HUNG_WITHIN)
        assert_answered(rendered, 200, HUNG_WITHIN)
        assert_answered(healthz, 200, 1.0)
        assert_unavailable(hidden, HUNG_WITHIN, "database_unavailable")
        assert_unavailable(upload, HUNG_WITHIN, "database_unavailable")
        # The engine now knows: nothing waits on the database any more.
        again = timed(lambda: app.test_client().get(f"{image}/resize/30x"))
        assert_answered(again, 200, FAST)
        metadata = timed(lambda: app.test_client().get(f"{image}/metadata"))
        assert_unavailable(metadata, FAST, "database_unavailable")
        private_again = timed(lambda: app.test_client().get(f"{secret}/resize/30x"))
        assert_unavailable(private_again, FAST, "database_unavailable")
        assert "does not answer" in private_again.json()["message"]

    # Thawed: the same app answers from the database again by itself.
    until(lambda: client.get(f"{image}/metadata").status_code == 200, 20, "recovery")
    stored = _upload(app, quadrant_bytes(64, 40))
    assert stored.status_code == 201, stored.get_data(as_text=True)
    assert client.get(f"/image/{stored.get_json()['hash']}").status_code == 200
    assert client.get(f"{secret}/resize/30x").status_code == 403  # private again, not a 503


def test_a_dead_database_is_a_quick_503(app: Flask, postgres: PostgresServer) -> None:
    public = _upload(app, quadrant_bytes(66, 40))
    assert public.status_code == 201
    image = f"/image/{public.get_json()['hash']}"
    client = app.test_client()
    assert client.get(f"{image}/resize/30x").status_code == 200
    postgres.stop()  # immediate shutdown: every connection refused
    upload = timed(lambda: _upload(app, quadrant_bytes(67, 40)))
    assert_unavailable(upload, 5.0, "database_unavailable")
    ready = timed(lambda: client.get("/readyz"))
    assert_unavailable(ready, 10.0, "not_ready")
    cached = timed(lambda: client.get(f"{image}/resize/30x"))
    assert_answered(cached, 200, 5.0)
