"""A metadata database nobody answers on: `/readyz` says so and uploads are a clean 503.

The app points at a PostgreSQL URL on a loopback port with no listener, so every connection
is refused at once; nothing may be stored on disk for an upload that could not be recorded.
"""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from images_server.app import create_app
from images_server.settings import Settings
from tests.catalog.support import ALICE, KEYS, assert_error, bearer, files, services
from tests.images import quadrant_bytes


def _unused_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed on return, never listened on


@pytest.fixture(params=["open", "keyed"])
def down(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_unused_port()}/images"
    keys = KEYS if request.param == "keyed" else ()
    app = create_app(
        Settings(data_dir=tmp_path / "data", database_url=url, api_keys=keys, engine="vips")
    )
    yield app
    engine = services(app).database
    if engine is not None:
        engine.dispose()


def test_readyz_names_the_database(down: Flask) -> None:
    response = down.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error"
    assert "database" in body["checks"]
    assert body["checks"]["database"]


def test_an_upload_is_a_clean_503(down: Flask) -> None:
    data = quadrant_bytes(40, 30, "png")
    form = {"file": (io.BytesIO(data), "q.png")}
    response = down.test_client().post("/upload", data=form, headers=bearer(ALICE))
    assert_error(response, 503, "database_unavailable")
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    assert "psycopg" not in text
    assert "127.0.0.1" not in text
    assert files(services(down).settings.originals_dir) == []
