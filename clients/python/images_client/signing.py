"""Sign images-server URLs (docs/api.md §5): standard library only, Python 3.9+.

This module imports nothing from the rest of the package, so it can still be copied alone
into a project as the single-file helper it used to be:

    >>> from images_client.signing import sign_url
    >>> sign_url("/image/<hash>/resize/200x200%5E?format=webp", "my-key", expires_in=3600)
    '/image/%3Chash%3E/resize/200x200%5E?expires=...&format=webp&signature=...'

The result is the canonical form of the path and query (defined in clients/README.md) followed
by `signature=`, so the same inputs give the same URL in every language. Sign with the first key
of the server's `IMAGES_SECRET_KEY` and put the server's base URL in front of the result.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import time

__all__ = ["canonical_message", "sign_url"]

_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(rb"%([0-9A-Fa-f]{2})")


def _decode(text: str, plus_is_space: bool = False) -> str:
    if plus_is_space:
        text = text.replace("+", " ")
    raw = _ESCAPE.sub(lambda match: bytes([int(match.group(1), 16)]), text.encode("utf-8"))
    return raw.decode("utf-8", "replace")


def _encode(text: str, keep: bytes = b"") -> str:
    return "".join(
        chr(byte) if byte in _UNRESERVED or byte in keep else f"%{byte:02X}"
        for byte in text.encode("utf-8")
    )


def _pairs(query: str) -> list[tuple[str, str]]:
    pairs = []
    for field in query.split("&"):
        if field:
            name, _, value = field.partition("=")
            pairs.append((_decode(name, True), _decode(value, True)))
    return pairs


def _message(path: str, pairs: list[tuple[str, str]]) -> str:
    encoded = sorted((_encode(name), _encode(value)) for name, value in pairs)
    query = "&".join(f"{name}={value}" for name, value in encoded if name != "signature")
    return f"{_encode(_decode(path), keep=b'/')}?{query}"


def canonical_message(path: str, query: str) -> str:
    """The signed message for a percent-encoded path and a query string (without the `?`)."""
    return _message(path, _pairs(query))


def sign_url(
    path_and_query: str,
    key: str | bytes,
    expires_in: int | None = None,
    now: float | None = None,
) -> str:
    """`path_and_query` signed with `key`, valid `expires_in` seconds after `now` if given.

    `now` is unix seconds (default: the current time). A `signature` already in the query is
    dropped; with `expires_in`, an `expires` already there is replaced.
    """
    if not path_and_query.startswith("/") or "#" in path_and_query:
        raise ValueError("give a URL path starting with '/', without a fragment")
    path, _, query = path_and_query.partition("?")
    pairs = _pairs(query)
    if expires_in is not None:
        if not isinstance(expires_in, int) or isinstance(expires_in, bool):
            raise TypeError("expires_in must be whole seconds (an int)")
        expires = math.floor(time.time() if now is None else now) + expires_in
        pairs = [pair for pair in pairs if pair[0] != "expires"] + [("expires", str(expires))]
    message = _message(path, pairs)
    secret = key.encode("utf-8") if isinstance(key, str) else key
    digest = hmac.new(secret, message.encode("ascii"), hashlib.sha256).digest()
    signature = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return f"{message}{'' if message.endswith('?') else '&'}signature={signature}"
