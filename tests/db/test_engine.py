"""The metadata database's error boundary (`db.engine`): what cannot reach or use the database
raises `DatabaseUnavailable` with a reason a user may read; other errors stay themselves."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from images_server.db.engine import DatabasePool, make_engine
from images_server.errors import DatabaseUnavailable, ServiceUnavailable


def test_a_database_that_cannot_be_opened_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "images.db").mkdir()  # a directory where the file should be
    engine = make_engine(f"sqlite:///{tmp_path}/images.db")
    with pytest.raises(DatabaseUnavailable) as raised, engine.connect():
        pass
    assert raised.value.reason == "cannot open the database file"
    assert raised.value.message == "metadata database unavailable: cannot open the database file"
    assert isinstance(raised.value, ServiceUnavailable)  # a 503, retried by jobs
    assert raised.value.__cause__ is not None  # the driver's error, for the log


def test_an_integrity_error_is_not_an_outage(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/x.db")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))


def test_no_free_connection_in_time_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "x.db"

    def connect() -> Any:
        return sqlite3.connect(path)

    pool = DatabasePool(connect, pool_size=1, max_overflow=0, timeout=0.05)
    held = pool.connect()
    with pytest.raises(DatabaseUnavailable) as raised:
        pool.connect()
    held.close()
    assert raised.value.reason == "every connection is busy (pool timeout)"
