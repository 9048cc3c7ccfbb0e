"""`make_engine(url)`: a SQLAlchemy engine tuned for the database behind `url`.

SQLite gets foreign keys switched on for every connection (it ignores them otherwise, and
`ON DELETE CASCADE` would do nothing), WAL journaling so readers do not block the writer, and
a busy timeout; the directory of a file database is created if missing. PostgreSQL (and any
other server) gets `pool_pre_ping`, so a connection the server dropped is replaced, not used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL

_SQLITE_BUSY_TIMEOUT_MS = 5000


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


def make_engine(url: str | URL) -> Engine:
    """An engine for `url`: SQLite with foreign keys and WAL, servers with pre-ping."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed)
        event.listen(engine, "connect", _set_sqlite_pragmas)
        return engine
    return create_engine(parsed, pool_pre_ping=True)
