"""Rows read from a SQLite file, kept while nothing has been committed to it: `Unchanged`.

Every read of `/image/...` needs its image's record (visibility, owner, focal point); read
through SQLAlchemy that is about 85 µs of a cached variant's 730 (a pool checkout, a statement,
a result). SQLite counts the commits other connections make to a database file, from any
process (`PRAGMA data_version`): asked on a read-only connection of its own, which never
writes, the count changes with every upload, delete, grant or face analysis committed by any
web worker, job worker or command, and asking costs about 2 µs. So a record read while the
count was N is still the row while the count is N, and `Unchanged.read` serves it from memory
until then. A record loaded while a commit lands is kept under the count read before it, so it
is dropped at the next read; if the count cannot be read, every read goes to the database.

Only for SQLite files (the embedded default): PostgreSQL has no such counter.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from sqlalchemy import Engine

T = TypeVar("T")

KEPT = 10_000  # records kept; past it, the memory is emptied and fills again


class Unchanged(Generic[T]):
    """Values read from the SQLite file at `path`, each kept until a commit to the file."""

    def __init__(self, path: Path) -> None:
        self._uri = f"{path.absolute().as_uri()}?mode=ro"
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._opened_in = 0  # the pid that opened it: a forked child opens its own
        self._commits: int | None = None
        self._kept: dict[str, T] = {}

    def read(self, key: str, load: Callable[[], T]) -> T:
        """`load()`'s value for `key`, from memory when nothing was committed since it was."""
        with self._lock:
            commits = self._count()
            if commits is not None and commits != self._commits:
                self._kept.clear()
                self._commits = commits
            if commits is not None and key in self._kept:
                return self._kept[key]
        value = load()
        with self._lock:
            if commits is not None and commits == self._commits:
                if len(self._kept) >= KEPT:
                    self._kept.clear()
                self._kept[key] = value
        return value

    def _count(self) -> int | None:
        """How many commits other connections made (SQLite's own count), None if unknown."""
        try:
            if self._connection is None or self._opened_in != os.getpid():
                # The count is each connection's own: what another counted means nothing here.
                self._kept.clear()
                self._commits = None
                self._connection = sqlite3.connect(
                    self._uri, uri=True, check_same_thread=False, isolation_level=None
                )
                self._opened_in = os.getpid()
            (commits,) = self._connection.execute("PRAGMA data_version").fetchone()
        except sqlite3.Error:
            self._connection = None
            return None
        return int(commits)


def sqlite_file(engine: Engine) -> Path | None:
    """The SQLite file `engine` reads, or None (another database, memory, a `file:` URI)."""
    url = engine.url
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    if database.startswith("file:"):  # a URI: shared memory or options not mirrored here
        return None
    return Path(database)
