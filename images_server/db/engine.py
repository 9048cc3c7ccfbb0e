"""`make_engine(url)`: a SQLAlchemy engine tuned for the database behind `url`.

SQLite gets foreign keys switched on for every connection (it ignores them otherwise, and
`ON DELETE CASCADE` would do nothing), WAL journaling so readers do not block the writer, and
a busy timeout; the directory of a file database is created if missing. PostgreSQL (and any
other server) gets `pool_pre_ping`, so a connection the server dropped is replaced, not used,
and PostgreSQL a connect timeout, so an unreachable host fails in seconds instead of hanging.

`safe_url` renders a URL with its password hidden, and `database_error` says in a few words
what went wrong when connecting (host unreachable, authentication failed, no such database),
for messages a user reads: neither ever shows the password.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

_SQLITE_BUSY_TIMEOUT_MS = 5000
CONNECT_TIMEOUT = 5  # seconds; libpq's `connect_timeout` (an explicit one in the URL wins)

# What the drivers say, lowercased, and how to put it to a user; the first that matches wins.
_REASONS = (
    ("password authentication failed", "authentication failed"),
    ("authentication failed", "authentication failed"),
    ("no password supplied", "authentication failed (no password given)"),
    ("connection refused", "host unreachable (connection refused)"),
    ("timeout expired", "host unreachable (timed out)"),
    ("timed out", "host unreachable (timed out)"),
    ("could not translate host name", "host unreachable (unknown host name)"),
    ("name or service not known", "host unreachable (unknown host name)"),
    ("no route to host", "host unreachable (no route to host)"),
    ("network is unreachable", "host unreachable (network unreachable)"),
    ("unable to open database file", "cannot open the database file"),
    ("database is locked", "the database is locked"),
)
_NO_DATABASE = re.compile(r'database "([^"]*)" does not exist')
_NO_ROLE = re.compile(r'role "[^"]*" does not exist')


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
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT
    return create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)


def safe_url(url: str | URL) -> str:
    """`url` as text with its password replaced by `***` (or `<unparsable URL>`)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable URL>"


def database_error(error: BaseException) -> str:
    """What went wrong connecting, in a few words that name no host and no password."""
    if isinstance(error, PoolTimeout):
        return "every connection is busy (pool timeout)"
    original = error.orig if isinstance(error, DBAPIError) else error
    text = str(original).lower()
    missing = _NO_DATABASE.search(str(original))
    if missing:
        return f'database "{missing[1]}" does not exist'
    if _NO_ROLE.search(str(original)):
        return "authentication failed (no such user)"
    for needle, reason in _REASONS:
        if needle in text:
            return reason
    return type(original).__name__
