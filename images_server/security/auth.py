"""API keys for writes (SPEC §5): `Authorization: Bearer <key>` against `IMAGES_API_KEYS`.

A presented key is hashed with SHA-256 and compared with `hmac.compare_digest` to the digest of
every configured key, without stopping at the first match, so neither the time taken nor the
length of a guess says anything about the keys or which user they belong to. This module also
decides when writes are open to the network (no keys and a non-loopback bind), which the server
warns about at start.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from images_server.errors import Unauthorized
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

    def authenticate(self, authorization: str | None) -> str:
        """The user whose key the `Authorization` header carries; `Unauthorized` otherwise."""
        token = bearer_token(authorization)
        if token is None:
            raise Unauthorized()
        presented = _digest(token)
        user: str | None = None
        for name, digest in self.entries:  # every key is compared: no early exit
            if hmac.compare_digest(presented, digest) and user is None:
                user = name
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


def open_writes_warning(settings: Settings) -> str | None:
    """The warning to give when anyone who can reach the server may write, else None."""
    if settings.api_keys or is_loopback(settings.host):
        return None
    return (
        f"WARNING: writes are open to the network: IMAGES_API_KEYS is not set and the server "
        f"listens on {settings.host}, which is not a loopback address, so anyone who can reach "
        f"it may upload and delete images. Set IMAGES_API_KEYS=user:key,... to require keys."
    )
