"""The browser session of the packs web UI: a random cookie, `images_session`, that `GET /`
sets, and that a pack made from that page is bound to (kept as its SHA-256). API clients do
not get one: their packs belong to their API key, or, without keys, to whoever holds the
pack's unguessable id."""

from __future__ import annotations

import hashlib
import secrets

from flask import Response, request

SESSION_COOKIE = "images_session"
_TOKEN_LENGTH = 43  # secrets.token_urlsafe(32)


def session_hash() -> str | None:
    """The SHA-256 of this request's session cookie, or None without a valid one."""
    token = request.cookies.get(SESSION_COOKIE)
    if token is None or len(token) != _TOKEN_LENGTH:
        return None
    return hashlib.sha256(token.encode()).hexdigest()


def ensure_session(response: Response) -> Response:
    """Give the browser a session cookie if it has none."""
    if session_hash() is None:
        response.set_cookie(
            SESSION_COOKIE,
            secrets.token_urlsafe(32),
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
            path="/",
        )
    return response
