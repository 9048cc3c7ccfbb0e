"""Signed URLs: HMAC-SHA256 over a canonical form of the path and query (docs/api.md §5).

The signed message is `canonical_path + "?" + canonical_query`. The canonical path is the
URL path percent-decoded (UTF-8, invalid sequences become U+FFFD), then percent-encoded again
keeping only `A-Z a-z 0-9 - . _ ~` and `/` (so `^`, `%5E` and `%5e` sign alike, and the
signature covers exactly the path the app interprets). The canonical query takes the query
string's `&`-separated fields (empty ones skipped), splits each at its first `=` (none: the
value is empty), turns `+` into a space and percent-decodes name and value as above, drops every
`signature` field, percent-encodes names and values keeping only `A-Z a-z 0-9 - . _ ~`
(uppercase hex), sorts the pairs by encoded name, then encoded value (plain byte order), and
joins them as `name=value` with `&`. `expires` (unix seconds) is an ordinary field, so it is
signed when present. The signature is HMAC-SHA256 of that ASCII message with the key's UTF-8
bytes, in URL-safe base64 without padding; the signed URL is the canonical path and query with
`signature=` appended. Keys rotate: the first key signs, every key verifies.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

from images_server.errors import ExpiredSignature, InvalidSignature
from images_server.settings import Settings

SIGNATURE = "signature"
EXPIRES = "expires"
KEY_FILE = "secret_key"

_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(rb"%([0-9A-Fa-f]{2})")
_DIGITS = re.compile(r"[0-9]{1,12}")


def _decode(text: str, plus_is_space: bool = False) -> str:
    if plus_is_space:
        text = text.replace("+", " ")
    raw = _ESCAPE.sub(lambda match: bytes([int(match[1], 16)]), text.encode("utf-8"))
    return raw.decode("utf-8", "replace")


def _encode(text: str, keep: bytes = b"") -> str:
    return "".join(
        chr(byte) if byte in _UNRESERVED or byte in keep else f"%{byte:02X}"
        for byte in text.encode("utf-8")
    )


def canonical_path(path: str) -> str:
    """The path as signed: decoded once, then encoded with only unreserved characters and `/`."""
    return _encode(_decode(path), keep=b"/")


def query_pairs(query: str) -> list[tuple[str, str]]:
    """The decoded (name, value) fields of a query string, in order, as a form decoder reads."""
    pairs: list[tuple[str, str]] = []
    for field in query.split("&"):
        if field:
            name, _, value = field.partition("=")
            pairs.append((_decode(name, plus_is_space=True), _decode(value, plus_is_space=True)))
    return pairs


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    """The fields but `signature`, encoded, sorted by name then value, joined with `&`."""
    encoded = sorted((_encode(name), _encode(value)) for name, value in pairs if name != SIGNATURE)
    return "&".join(f"{name}={value}" for name, value in encoded)


def signature(message: str, key: bytes) -> str:
    digest = hmac.new(key, message.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign(path: str, query: str, key: bytes, expires: int | None = None) -> str:
    """The signed `path?query`; `expires` (unix seconds) replaces any `expires` in the query."""
    pairs = query_pairs(query)
    if expires is not None:
        pairs = [pair for pair in pairs if pair[0] != EXPIRES] + [(EXPIRES, str(expires))]
    base = canonical_path(path)
    query = canonical_query(pairs)
    sig = signature(f"{base}?{query}", key)
    return f"{base}?{query}&{SIGNATURE}={sig}" if query else f"{base}?{SIGNATURE}={sig}"


def verify(path: str, query: str, keys: Iterable[bytes], now: float) -> int | None:
    """Check the `signature` of `path?query` against every key; returns `expires` if any.

    `path` is percent-encoded as sent. Raises `InvalidSignature` when the signature is missing,
    repeated or wrong, or `expires` is not unix seconds, and `ExpiredSignature` past `expires`.
    """
    pairs = query_pairs(query)
    given = [value for name, value in pairs if name == SIGNATURE]
    if not given:
        raise InvalidSignature("this URL must be signed: the 'signature' parameter is missing")
    if len(given) > 1:
        raise InvalidSignature("bad signature: 'signature' is given more than once")
    message = f"{canonical_path(path)}?{canonical_query(pairs)}"
    provided = given[0].encode("utf-8")
    valid = False
    for key in keys:  # no early exit: the time taken does not say which key matched
        valid |= hmac.compare_digest(signature(message, key).encode("ascii"), provided)
    if not valid:
        raise InvalidSignature()
    return _check_expiry([value for name, value in pairs if name == EXPIRES], now)


def _check_expiry(values: list[str], now: float) -> int | None:
    if not values:
        return None
    if len(values) > 1 or not _DIGITS.fullmatch(values[0]):
        raise InvalidSignature("bad signature: 'expires' must be one number of unix seconds")
    expires = int(values[0])
    if now > expires:
        raise ExpiredSignature(f"expired signature: the URL expired at {expires}")
    return expires


class SigningKeys:
    """A process's signing keys (`signing_keys`), read (or generated) on first use, then kept."""

    def __init__(self) -> None:
        self._keys: tuple[bytes, ...] = ()

    def get(self, settings: Settings) -> tuple[bytes, ...]:
        """The keys of `settings`; the first one signs."""
        if not self._keys:
            self._keys = signing_keys(settings)
        return self._keys


def signing_keys(settings: Settings) -> tuple[bytes, ...]:
    """`IMAGES_SECRET_KEY`'s keys, or the key generated once and kept in the data dir."""
    if settings.secret_key:
        return tuple(key.encode("utf-8") for key in settings.secret_key)
    return (load_or_create_key(settings.data_dir / KEY_FILE),)


def load_or_create_key(path: Path) -> bytes:
    """The key in `path`, created (mode 0600) when missing; racing creators end with one key.

    The key is written to a private temp file that is then hard-linked into place: the link is
    atomic and fails when `path` exists, so a reader never sees a half-written key and the
    loser of a race reads the winner's key.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as file:
                file.write(secrets.token_urlsafe(32) + "\n")
                file.flush()
                os.fsync(file.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(temp, path)
        finally:
            temp.unlink()
    key = path.read_text(encoding="utf-8").strip()
    if not key:
        raise ValueError(f"{path} is empty: delete it to generate a new key, or set the key")
    return key.encode("utf-8")
