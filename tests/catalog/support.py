"""Helpers for the catalogue tests: users and their keys, uploads, rows and files on disk.

The apps run with four users (`alice`, `bob`, `carol`, and `admin`, whom the default
`IMAGES_ADMIN_USERS` names); rows are counted straight from the metadata database and stored
bytes straight from the data directory, so a test sees what the server left behind, not what
it answered.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from images_server.db.models import Base
from images_server.services import Services

ALICE = "alice-key-0123456789"
BOB = "bob-key-0123456789ab"
CAROL = "carol-key-0123456789"
ADMIN = "admin-key-0123456789"
KEYS = (f"alice:{ALICE}", f"bob:{BOB}", f"carol:{CAROL}", f"admin:{ADMIN}")

MakeApp = Callable[..., Flask]
"""`make_app(**settings)`: an app on the test's migrated database (the `make_app` fixture)."""

IMMUTABLE = "public, max-age=31536000, immutable"
PRIVATE = "private, no-cache"


def bearer(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


def services(app: Flask) -> Services:
    return cast(Services, app.extensions["images"])


def database(app: Flask) -> Engine:
    engine = services(app).database
    assert engine is not None
    return engine


def upload(
    client: FlaskClient, data: bytes, key: str | None = None, public: str | None = None
) -> TestResponse:
    """A multipart upload of `data`, with a `public` field when given."""
    form: dict[str, Any] = {"file": (io.BytesIO(data), "picture.png")}
    if public is not None:
        form["public"] = public
    return client.post("/upload", data=form, headers=bearer(key))


def assert_error(response: TestResponse, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "error"
    assert body["code"] == code
    assert body["message"]


def count(app: Flask, model: type[Base], **where: object) -> int:
    """How many rows of `model` match `where` (column=value)."""
    with Session(database(app)) as session:
        query = select(func.count()).select_from(model).filter_by(**where)
        return int(session.execute(query).scalar_one())


def files(root: Path) -> list[Path]:
    """Every file under `root` (none when it does not exist)."""
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


@contextmanager
def failing_commits() -> Iterator[list[Any]]:
    """Every database commit in the block fails in the driver, as a database that fails
    mid-commit does (what the engine then raises is the server's to say: a 503).

    Yields the driver connections whose commit failed, so a test can show it really happened.
    """
    failed: list[Any] = []
    commit = DefaultDialect.do_commit

    def fail(dialect: DefaultDialect, connection: Any) -> None:
        failed.append(connection)
        connection.rollback()  # the transaction is lost, as a commit that fails loses it
        raise dialect.loaded_dbapi.OperationalError("injected: could not write the WAL")

    DefaultDialect.do_commit = fail  # type: ignore[method-assign]
    try:
        yield failed
    finally:
        DefaultDialect.do_commit = commit  # type: ignore[method-assign]
