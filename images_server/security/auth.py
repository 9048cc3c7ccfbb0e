"""API keys for writes (docs/api.md §5): `Authorization: Bearer <key>` against `IMAGES_API_KEYS`
and the keys stored in the metadata database (`images-server keys create`).

A presented key is hashed with SHA-256 and compared with `hmac.compare_digest` to the digest of
every configured key, without stopping at the first match, so neither the time taken nor the
length of a guess says anything about the keys or which user they belong to. Database keys are
found by an indexed lookup of that SHA-256: the hash of a guess tells nothing about the stored
ones. `KeyChecker` combines both: writes need a key when either source has one. This module
also decides when writes are open to the network (no keys and a non-loopback bind), which the
server warns about at start.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect, make_url
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from images_server.db.engine import make_engine
from images_server.db.models import ApiKey
from images_server.db.queries import has_active_api_keys, user_for_api_key
from images_server.errors import DatabaseUnavailable, Unauthorized
from images_server.settings import Settings


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None for anything else."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


@dataclass(frozen=True)
class ApiKeys:
    """The configured keys as (user, SHA-256 of the key) pairs; empty means writes are open."""

    entries: tuple[tuple[str, bytes], ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> ApiKeys:
        """From `user:key` entries (validated by `Settings`)."""
        pairs = (entry.partition(":") for entry in entries)
        return cls(tuple((user, _digest(key)) for user, _, key in pairs))

    def __bool__(self) -> bool:
        return bool(self.entries)

    def match(self, token: str) -> str | None:
        """The user whose key `token` is, or None; every key is compared, in constant time."""
        presented = _digest(token)
        user: str | None = None
        for name, digest in self.entries:  # every key is compared: no early exit
            if hmac.compare_digest(presented, digest) and user is None:
                user = name
        return user


def _sqlite_file_missing(url: URL) -> bool:
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return False
    return not database.startswith("file:") and not Path(database).exists()


class DatabaseKeys:
    """The API keys in the metadata database at `url`, through `engine` or one built here.

    A database that does not exist yet, or has no `api_keys` table yet, has no keys; once the
    table is seen it is not looked for again. A database that cannot be used raises (503
    `database_unavailable`, from the engine), so it refuses writes rather than opening them.
    """

    def __init__(self, url: str | URL, engine: Engine | None = None) -> None:
        self._url = engine.url if engine is not None else make_url(url)
        self._built = engine
        self._ready = False

    @property
    def _engine(self) -> Engine:
        if self._built is None:  # built on first use: no directory is made before it is needed
            self._built = make_engine(self._url)
        return self._built

    def _missing(self) -> bool:
        if self._ready:
            return False
        if _sqlite_file_missing(self._url):
            return True  # do not create an empty database file just to look in it
        with self._engine.connect() as connection:
            self._ready = inspect(connection).has_table(ApiKey.__tablename__)
        return not self._ready

    def any_active(self) -> bool:
        """Whether the database holds at least one key that is not revoked."""
        if self._missing():
            return False
        with Session(self._engine) as session:
            return has_active_api_keys(session)

    def user_for(self, token: str) -> str | None:
        """The user of the unrevoked key `token`, or None."""
        if self._missing():
            return None
        with Session(self._engine) as session:
            return user_for_api_key(session, token)

    def dispose(self) -> None:
        """Close the engine's pooled connections, if it was ever built."""
        if self._built is not None:
            self._built.dispose()


@dataclass(frozen=True)
class KeyChecker:
    """Keys from `IMAGES_API_KEYS` and from the database, checked together."""

    env: ApiKeys
    database: DatabaseKeys

    def required(self) -> bool:
        """Whether writes need a key: some key is configured or stored (and not revoked)."""
        return bool(self.env) or self.database.any_active()

    def authenticate(self, authorization: str | None, write: bool) -> str | None:
        """The user a request acts as: None when no key is needed and none is presented.

        A write needs a valid key when keys exist; a read only needs one to be valid when it
        sends one. Without any key, nothing is checked, as before keys existed.
        """
        token = bearer_token(authorization)
        if token is None and not write:
            return None
        if not self.required():
            return None
        if token is None:
            raise Unauthorized()
        user = self.env.match(token)
        if user is None:
            user = self.database.user_for(token)
        if user is None:
            raise Unauthorized("the API key is not valid")
        return user


def is_loopback(host: str) -> bool:
    """Whether a bind address only accepts local connections (127.0.0.0/8, ::1, localhost)."""
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a host name other than localhost may resolve to anything
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def _has_database_keys(database: DatabaseKeys | None) -> bool:
    if database is None:
        return False
    try:
        return database.any_active()
    except DatabaseUnavailable:
        return False  # unreachable now: warn, since writes may well be open


def open_writes_warning(settings: Settings, database: DatabaseKeys | None = None) -> str | None:
    """The warning to give when anyone who can reach the server may write, else None.

    With `database`, keys stored there (not revoked) count too; it is only asked when the
    warning would otherwise be given.
    """
    if settings.api_keys or is_loopback(settings.host) or _has_database_keys(database):
        return None
    return (
        f"WARNING: writes are open to the network: IMAGES_API_KEYS is not set, the database "
        f"holds no API key, and the server listens on {settings.host}, which is not a loopback "
        f"address, so anyone who can reach it may upload and delete images. Set "
        f"IMAGES_API_KEYS=user:key,... or run `images-server keys create --user NAME`."
    )
