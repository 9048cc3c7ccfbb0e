"""`db.unchanged`: a SQLite file's records kept in memory until anything commits to the file.

Commits come from a SQLAlchemy engine on the same file (another web worker's), from another
process, or land while a record is being loaded; each makes the next read go to the database.
The catalogue's side (a record turned private elsewhere is never served from memory) is
tests/catalog/test_private.py's `test_a_row_turned_private_elsewhere_is_private_at_once`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from images_server.db.engine import make_engine
from images_server.db.unchanged import KEPT, Unchanged, sqlite_file


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    path = tmp_path / "images.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE rows (n INTEGER)"))
    engine.dispose()
    return path


def _commit(path: Path) -> None:
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO rows VALUES (1)"))
    engine.dispose()


def _counting(value: str) -> tuple[Callable[[], str], list[int]]:
    calls: list[int] = []

    def load() -> str:
        calls.append(1)
        return value

    return load, calls


def test_a_record_is_read_once_until_a_commit(db_file: Path) -> None:
    unchanged = Unchanged[str](db_file)
    load, calls = _counting("a")
    assert [unchanged.read("k", load) for _ in range(3)] == ["a"] * 3
    assert len(calls) == 1
    _commit(db_file)  # another engine's connection: another web worker
    assert unchanged.read("k", load) == "a"
    assert len(calls) == 2
    assert unchanged.read("k", load) == "a"
    assert len(calls) == 2


def test_a_commit_from_another_process_is_seen(db_file: Path) -> None:
    unchanged = Unchanged[str](db_file)
    load, calls = _counting("a")
    unchanged.read("k", load)
    script = f"import sqlite3; c = sqlite3.connect({str(db_file)!r}); "
    script += "c.execute('INSERT INTO rows VALUES (2)'); c.commit()"
    subprocess.run([sys.executable, "-c", script], check=True, timeout=30)
    unchanged.read("k", load)
    assert len(calls) == 2


def test_a_record_loaded_while_a_commit_lands_is_not_kept(db_file: Path) -> None:
    unchanged = Unchanged[str](db_file)
    calls: list[int] = []

    def load_during_a_commit() -> str:
        calls.append(1)
        if len(calls) == 1:
            _commit(db_file)  # the row may have changed after it was read
        return "a"

    unchanged.read("k", load_during_a_commit)
    unchanged.read("k", load_during_a_commit)
    unchanged.read("k", load_during_a_commit)
    assert len(calls) == 2  # the second load is the first kept


def test_without_a_count_every_read_loads(tmp_path: Path) -> None:
    unchanged = Unchanged[str](tmp_path / "absent.db")  # read-only: never created
    load, calls = _counting("a")
    unchanged.read("k", load)
    unchanged.read("k", load)
    assert len(calls) == 2
    assert not (tmp_path / "absent.db").exists()


def test_memory_is_bounded(db_file: Path) -> None:
    unchanged = Unchanged[str](db_file)
    loads: list[str] = []

    def loading(key: str) -> Callable[[], str]:
        def load() -> str:
            loads.append(key)
            return key

        return load

    for n in range(KEPT + 1):
        unchanged.read(str(n), loading(str(n)))
    unchanged.read("0", loading("0"))
    assert loads[-2:] == [str(KEPT), "0"]  # emptied when full, not grown
    assert len(loads) == KEPT + 2


def test_a_forked_child_counts_on_its_own_connection(db_file: Path) -> None:
    unchanged = Unchanged[str](db_file)
    load, calls = _counting("a")
    unchanged.read("k", load)
    child = os.fork()
    if child == 0:
        try:
            _commit(db_file)
            child_load, child_calls = _counting("b")
            status = 0 if unchanged.read("k", child_load) == "b" and child_calls else 1
        finally:
            os._exit(status if "status" in locals() else 2)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert unchanged.read("k", load) == "a"
    assert len(calls) == 2  # the child's commit counts here too


def test_only_sqlite_files_are_kept(tmp_path: Path) -> None:
    assert sqlite_file(make_engine(f"sqlite:///{tmp_path}/x.db")) == tmp_path / "x.db"
    assert sqlite_file(make_engine("sqlite://")) is None
    assert sqlite_file(make_engine("sqlite:///:memory:")) is None
    assert sqlite_file(make_engine("postgresql+psycopg://u@127.0.0.1:9/db")) is None
