"""Apps on a migrated metadata database, SQLite then PostgreSQL (`database_url`).

An explicit `IMAGES_DATABASE_URL` is never migrated by `create_app`, so `make_app` runs the
migrations first, as `images-server migrate` does before `serve`. Every app's engine is
disposed at the end, so no pooled connection outlives its test (PostgreSQL's schema is dropped
for the next one).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from images_server.app import create_app
from images_server.db import migrate
from images_server.settings import Settings
from tests.catalog.support import KEYS, MakeApp, services


@pytest.fixture
def make_app(tmp_path: Path, database_url: str) -> Iterator[MakeApp]:
    migrate.upgrade(database_url)
    built: list[Flask] = []

    def build(**overrides: object) -> Flask:
        values: dict[str, object] = {
            "data_dir": tmp_path / "data",
            "database_url": database_url,
            "engine": "vips",
        }
        values.update(overrides)
        app = create_app(Settings(**values))  # type: ignore[arg-type]
        built.append(app)
        return app

    yield build
    for app in built:
        engine = services(app).database
        if engine is not None:
            engine.dispose()


@pytest.fixture
def keyed(make_app: MakeApp) -> Flask:
    """An app where writes need one of the keys of `support.KEYS`."""
    return make_app(api_keys=KEYS)
