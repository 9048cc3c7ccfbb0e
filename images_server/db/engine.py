"""`make_engine(url)`: a SQLAlchemy engine tuned for the database behind `url`.

SQLite gets foreign keys switched on for every connection (it ignores them otherwise, and
`ON DELETE CASCADE` would do nothing), WAL journaling so readers do not block the writer, and
a busy timeout; the directory of a file database is created if missing. PostgreSQL (and any
other server) gets `pool_pre_ping`, so a connection the server dropped is replaced, not used,
and a pool timeout, so a request waits seconds, not half a minute, for a free connection.

PostgreSQL also gets deadlines, so a server that hangs fails a request in seconds with a 503
instead of holding a worker until gunicorn kills it (docs/api.md §8): a connect timeout, a
`statement_timeout` (the server cancels a slow query itself), TCP keepalives and
`tcp_user_timeout` (a host that vanished from the network), and, through psycopg, a deadline
on every answer the client waits for. That last one is what catches a stopped server
(SIGSTOP, a frozen VM): its kernel still accepts connections and acknowledges what is sent, so
neither TCP option fires, and the server cannot enforce its own `statement_timeout`. A
connection that missed its deadline is closed (the pool replaces it), and for `TRIP_FOR`
seconds afterwards the engine fails at once instead of waiting again; then one request tries
the server while the others keep failing fast, until it answers. Options given in the URL's
query (`connect_timeout`, `options`, `keepalives*`, `tcp_user_timeout`) win; `query_timeout=None`
(migrations) drops the statement and answer deadlines.

The psycopg side of those deadlines lives in `images_server.db.postgres`, imported only for a
PostgreSQL URL: a server on the embedded SQLite database never loads psycopg.

Every engine is the database's error boundary: a database that cannot be reached or used (the
driver's operational and interface errors, a pool with no free connection) raises
`DatabaseUnavailable` (503), its `reason` said by `database_error` in a few words (host
unreachable, authentication failed, no such database), never the host or the password; the
SQLAlchemy error is its cause. Other errors (an integrity error, a bug) stay as they are.
A pool's pre-ping is left alone: a dropped connection is replaced, not reported.
`safe_url` renders a URL with its password hidden.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL, ExceptionContext
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import PoolProxiedConnection, QueuePool

from images_server.errors import DatabaseUnavailable

_SQLITE_BUSY_TIMEOUT_MS = 5000
CONNECT_TIMEOUT = 5  # seconds; libpq's `connect_timeout` (an explicit one in the URL wins)
QUERY_TIMEOUT = 5.0  # seconds; PostgreSQL's `statement_timeout`, and the pool timeout
# The client waits a little longer than the server's own timeout, so a live server that is
# merely slow cancels the query itself and the connection stays usable.
ANSWER_MARGIN = 1.0
TRIP_FOR = 5.0  # seconds of failing fast after the server missed a deadline
_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5}
_KEEPALIVE_COUNT = 3

# What the drivers say, lowercased, and how to put it to a user; the first that matches wins.
_REASONS = (
    ("password authentication failed", "authentication failed"),
    ("authentication failed", "authentication failed"),
    ("no password supplied", "authentication failed (no password given)"),
    ("did not answer", "the server does not answer (timed out)"),
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


def _postgres_args(parsed: URL, query_timeout: float | None) -> dict[str, Any]:
    """libpq options for deadlines, unless the URL's query sets them itself."""
    given = parsed.query
    args: dict[str, Any] = {}
    if "connect_timeout" not in given:
        args["connect_timeout"] = CONNECT_TIMEOUT
    if query_timeout is not None and "options" not in given:
        args["options"] = f"-c statement_timeout={round(query_timeout * 1000)}"
    if not any(name.startswith("keepalives") for name in given):
        args |= _KEEPALIVES | {"keepalives_count": _KEEPALIVE_COUNT}
    if query_timeout is not None and "tcp_user_timeout" not in given:
        args["tcp_user_timeout"] = round((query_timeout + 1.0) * 1000)
    return args


def unavailable(error: BaseException) -> DatabaseUnavailable:
    """The error a request (or a command) gets for `error`: the database cannot be used."""
    return DatabaseUnavailable(database_error(error))


def _raise_unavailable(context: ExceptionContext) -> None:
    error = context.sqlalchemy_exception
    if context.is_pre_ping or not isinstance(error, OperationalError | InterfaceError):
        return
    raise unavailable(error) from error


class DatabasePool(QueuePool):
    """SQLAlchemy's pool, whose wait for a free connection ends in `DatabaseUnavailable`."""

    def connect(self) -> PoolProxiedConnection:
        try:
            return super().connect()
        except PoolTimeout as error:
            raise unavailable(error) from error


def make_engine(url: str | URL, query_timeout: float | None = QUERY_TIMEOUT) -> Engine:
    """An engine for `url`: SQLite with foreign keys and WAL, servers with pre-ping, and
    PostgreSQL with deadlines of `query_timeout` seconds (None: none, for migrations); every
    one raising `DatabaseUnavailable` when the database cannot be used (see above)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ":memory:"
        a_file = database != ":memory:" and not database.startswith("file:")
        if a_file:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, poolclass=DatabasePool) if a_file else create_engine(parsed)
        event.listen(engine, "connect", _set_sqlite_pragmas)
        event.listen(engine, "handle_error", _raise_unavailable)
        return engine
    postgres = parsed.get_backend_name() == "postgresql"
    connect_args = _postgres_args(parsed, query_timeout) if postgres else {}
    engine = create_engine(
        parsed,
        poolclass=DatabasePool,
        pool_pre_ping=True,
        pool_timeout=QUERY_TIMEOUT,
        connect_args=connect_args,
    )
    event.listen(engine, "handle_error", _raise_unavailable)
    if engine.dialect.driver == "psycopg":
        from images_server.db.postgres import watch_postgres  # psycopg: only when used

        answer_within = None if query_timeout is None else query_timeout + ANSWER_MARGIN
        watch_postgres(engine, answer_within, float(CONNECT_TIMEOUT), TRIP_FOR)
    return engine


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
