"""The psycopg side of `make_engine`'s PostgreSQL deadlines (`images_server.db.engine`).

Imported by `make_engine` only for a `postgresql+psycopg` URL, so a server on SQLite never
loads psycopg. `_DeadlineConnection` waits at most the engine's answer timeout for any answer;
`_Breaker` then fails callers at once for its `trip_for` seconds, and lets one probe through.
The timeouts are `make_engine`'s, passed in (this module imports nothing of the package).
"""

from __future__ import annotations

import threading
import time
from typing import Any, TypeVar

import psycopg
from psycopg.abc import PQGen
from psycopg.errors import ConnectionTimeout
from sqlalchemy import Engine, event

_T = TypeVar("_T")


class _Breaker:
    """Whether the server missed a deadline lately: then callers fail at once, not wait."""

    def __init__(self, trip_for: float) -> None:
        self._trip_for = trip_for
        self._lock = threading.Lock()
        self._tripped = False
        self._until = 0.0

    def admit(self, probe_for: float) -> None:
        """Raise while tripped; after `trip_for`, let one caller through for `probe_for` s."""
        if not self._tripped:  # the common case, without the lock
            return
        with self._lock:
            now = time.monotonic()
            if not self._tripped:
                return
            if now < self._until:
                left = self._until - now
                raise psycopg.OperationalError(
                    f"the database server did not answer a moment ago; not asking it again "
                    f"for {left:.1f} s"
                )
            self._until = now + probe_for  # this caller probes; the others still fail fast

    def trip(self) -> None:
        with self._lock:
            self._tripped = True
            self._until = time.monotonic() + self._trip_for

    def answered(self) -> None:
        if self._tripped:
            with self._lock:
                self._tripped = False


class _DeadlineConnection(psycopg.Connection[Any]):
    """A psycopg connection that waits at most `answer_within` seconds for any answer."""

    answer_within: float = 0.0  # set with the breaker: without one, psycopg's own waits
    breaker: _Breaker | None = None

    def wait(self, gen: PQGen[_T], interval: float = 0.1, timeout: float | None = None) -> _T:
        breaker = self.breaker
        if timeout is not None or breaker is None:  # psycopg's own bounded waits
            return super().wait(gen, interval, timeout)
        try:
            breaker.admit(self.answer_within)
        except psycopg.OperationalError:
            self.close()  # the generator was never started: nothing half-sent, but say closed
            raise
        try:
            result = super().wait(gen, interval, self.answer_within)
        except psycopg.OperationalError as exc:
            # psycopg's own (private) class for a wait past its timeout
            if self.closed or type(exc).__name__ != "_WaitTimeout":
                raise  # the server said something, or hung up: it is not hanging
            breaker.trip()
            self.close()  # mid-protocol: never reusable; SQLAlchemy sees it closed, drops it
            raise psycopg.OperationalError(
                f"the database server did not answer within {self.answer_within:g} s"
            ) from exc
        breaker.answered()
        return result


def watch_postgres(
    engine: Engine, answer_within: float | None, connect_within: float, trip_for: float
) -> None:
    """Connect through `_DeadlineConnection`, sharing one breaker per engine: answers within
    `answer_within` seconds (None: no deadline), connections within `connect_within`, and
    `trip_for` seconds of failing fast after a missed deadline."""
    breaker = _Breaker(trip_for)

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        breaker.admit(connect_within)
        try:
            connection = _DeadlineConnection.connect(*cargs, **cparams)
        except ConnectionTimeout:
            breaker.trip()
            raise
        breaker.answered()
        if answer_within is not None:
            connection.answer_within = answer_within
            connection.breaker = breaker
        return connection
