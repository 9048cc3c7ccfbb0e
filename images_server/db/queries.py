"""Small typed queries on the metadata tables: images, grants and API keys.

Each takes an open `Session` and leaves committing to the caller, so several calls can share
one transaction. API keys are looked up by their SHA-256 (`hash_api_key`); the key itself is
never stored. `create_api_key` makes a new random key and returns it: the only time it exists.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from images_server.db.models import ApiKey, Grant, Image, utcnow


def hash_api_key(key: str) -> str:
    """The hex SHA-256 of an API key: what the `api_keys` table stores instead of the key."""
    return hashlib.sha256(key.encode()).hexdigest()


def add_image(session: Session, image: Image) -> Image:
    """Add an image row (flushed, so a duplicate hash raises here)."""
    session.add(image)
    session.flush()
    return image


def get_image(session: Session, image_hash: str) -> Image | None:
    """The image with this hash, or None."""
    return session.get(Image, image_hash)


def delete_image(session: Session, image_hash: str) -> bool:
    """Delete an image and (by cascade) its uploads and grants; False if there was none."""
    result = session.execute(delete(Image).where(Image.hash == image_hash))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def add_grant(session: Session, image_hash: str, user: str, expires_at: datetime) -> Grant:
    """Let `user` read a private image until `expires_at` (a second one raises IntegrityError)."""
    grant = Grant(image_hash=image_hash, user=user, expires_at=expires_at)
    session.add(grant)
    session.flush()
    return grant


def set_grant(session: Session, image_hash: str, user: str, expires_at: datetime) -> Grant:
    """Let `user` read a private image until `expires_at`, replacing the grant they had."""
    query = select(Grant).where(Grant.image_hash == image_hash, Grant.user == user)
    grant = session.execute(query).scalar_one_or_none()
    if grant is None:
        return add_grant(session, image_hash, user, expires_at)
    grant.expires_at = expires_at
    session.flush()
    return grant


def has_grant(session: Session, image_hash: str, user: str, now: datetime | None = None) -> bool:
    """Whether `user` holds an unexpired grant on the image."""
    query = select(Grant.id).where(
        Grant.image_hash == image_hash,
        Grant.user == user,
        Grant.expires_at > (now or utcnow()),
    )
    return session.execute(query).first() is not None


def add_api_key(session: Session, user: str, key: str) -> ApiKey:
    """Store the hash of `key` for `user`."""
    row = ApiKey(user=user, key_hash=hash_api_key(key))
    session.add(row)
    session.flush()
    return row


def user_for_api_key(session: Session, key: str) -> str | None:
    """The user whose unrevoked key this is, or None."""
    query = select(ApiKey.user).where(
        ApiKey.key_hash == hash_api_key(key), ApiKey.revoked_at.is_(None)
    )
    return session.execute(query).scalar_one_or_none()


HASH_PREFIX_MIN = 6
"""The fewest hex digits of a key's hash that `find_api_keys` accepts as a prefix."""
_MAX_ID = 2**31 - 1  # `api_keys.id` is a 32-bit INTEGER on PostgreSQL: bigger is no id


def create_api_key(session: Session, user: str) -> tuple[ApiKey, str]:
    """A new random key for `user`: its row (only the hash is stored) and the key itself."""
    key = secrets.token_urlsafe(32)
    return add_api_key(session, user, key), key


def list_api_keys(session: Session) -> list[ApiKey]:
    """Every key row, revoked ones included, oldest first."""
    return list(session.execute(select(ApiKey).order_by(ApiKey.id)).scalars())


def has_active_api_keys(session: Session) -> bool:
    """Whether at least one key is not revoked."""
    return bool(session.execute(select(exists().where(ApiKey.revoked_at.is_(None)))).scalar())


def find_api_keys(session: Session, id_or_prefix: str) -> list[ApiKey]:
    """The keys whose id is `id_or_prefix`, or whose hash starts with it (6+ hex digits)."""
    text = id_or_prefix.strip().lower()
    found: dict[int, ApiKey] = {}
    if text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= _MAX_ID:
        row = session.get(ApiKey, int(text))
        if row is not None:
            found[row.id] = row
    is_hex = all(char in "0123456789abcdef" for char in text)
    if not found and is_hex and len(text) >= HASH_PREFIX_MIN:
        query = select(ApiKey).where(ApiKey.key_hash.startswith(text)).order_by(ApiKey.id)
        found.update((row.id, row) for row in session.execute(query).scalars())
    return list(found.values())


def revoke_api_key_row(session: Session, row: ApiKey, when: datetime | None = None) -> bool:
    """Mark this key revoked; False if it already was."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = when or utcnow()
    session.flush()
    return True
