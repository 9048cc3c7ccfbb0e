"""Single-use upload tokens in the metadata database (docs/api.md §5).

`create_upload_token` makes a random token and stores only its SHA-256 with the user, size
limit, visibility and expiry; the token itself exists only in its answer. `spend_upload_token`
marks it used in one conditional `UPDATE ... WHERE used_at IS NULL AND expires_at > now`: the
database decides, so of two requests racing with one token exactly one gets the row back.
`peek_upload_token` checks a token without spending it. Like `queries`, each function takes an
open `Session` and leaves committing to the caller.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from images_server.db.models import UploadToken, utcnow

TOKEN_PREFIX = "iut_"  # noqa: S105 - a prefix, not a secret
"""What every upload token starts with, so it is told from an API key without a lookup."""

KEEP_SPENT = timedelta(hours=1)
"""How long a token's row outlives its expiry, so a late use is told `expired`, not unknown."""


def is_upload_token(token: str | None) -> bool:
    """Whether a presented Bearer token is an upload token (by its prefix)."""
    return token is not None and token.startswith(TOKEN_PREFIX)


def hash_upload_token(token: str) -> str:
    """The hex SHA-256 of a token: what the `upload_tokens` table stores instead of it."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class TokenGrant:
    """What a valid token allows: one upload, as `user`, of at most `max_bytes`."""

    user: str | None
    max_bytes: int
    public: bool


def create_upload_token(
    session: Session, user: str | None, max_bytes: int, public: bool, expires_at: datetime
) -> str:
    """Store a new token's hash and return the token (the only time it exists)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        UploadToken(
            token_hash=hash_upload_token(token),
            user=user,
            max_bytes=max_bytes,
            public=public,
            expires_at=expires_at,
        )
    )
    session.flush()
    return token


def _grant(row: UploadToken) -> TokenGrant:
    return TokenGrant(user=row.user, max_bytes=row.max_bytes, public=row.public)


def spend_upload_token(
    session: Session, token: str, now: datetime | None = None
) -> TokenGrant | None:
    """Mark the token used, if it is unused and unexpired; its grant, or None (see `why_not`)."""
    now = now or utcnow()
    digest = hash_upload_token(token)
    spent = session.execute(
        update(UploadToken)
        .where(
            UploadToken.token_hash == digest,
            UploadToken.used_at.is_(None),
            UploadToken.expires_at > now,
        )
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        return None
    row = session.get(UploadToken, digest)
    return None if row is None else _grant(row)


def peek_upload_token(
    session: Session, token: str, now: datetime | None = None
) -> TokenGrant | None:
    """The token's grant if it is unused and unexpired, without spending it; else None."""
    row = session.get(UploadToken, hash_upload_token(token))
    if row is None or row.used_at is not None or row.expires_at <= (now or utcnow()):
        return None
    return _grant(row)


def why_not(session: Session, token: str) -> str:
    """Why a token was refused: `unknown`, `used` or `expired`."""
    row = session.get(UploadToken, hash_upload_token(token))
    if row is None:
        return "unknown"
    return "used" if row.used_at is not None else "expired"


def delete_stale_upload_tokens(session: Session, now: datetime | None = None) -> int:
    """Delete the rows of tokens expired more than `KEEP_SPENT` ago; how many."""
    cutoff = (now or utcnow()) - KEEP_SPENT
    result = session.execute(delete(UploadToken).where(UploadToken.expires_at < cutoff))
    return int(result.rowcount)  # type: ignore[attr-defined]
