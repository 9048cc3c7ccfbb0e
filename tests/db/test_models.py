"""The models on a migrated database, SQLite and PostgreSQL: round trips and constraints.

Images keep their JSON EXIF subset and timezone-aware timestamps; uploads and grants go with
their image (ON DELETE CASCADE, which SQLite only honours with its foreign keys pragma on);
a second grant for the same (image, user) is refused; API keys are stored as hashes only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from images_server.db import queries
from images_server.db.engine import make_engine
from images_server.db.migrate import upgrade
from images_server.db.models import ApiKey, Grant, Image, Upload

HASH = hashlib.sha256(b"an image").hexdigest()
EXIF = {"Make": "Canon", "Model": "EOS 5D", "FNumber": 2.8, "ISO": 100, "Lens": ["50mm", None]}


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def _image(image_hash: str = HASH, **overrides: object) -> Image:
    values: dict[str, object] = {
        "hash": image_hash, "bytes": 5_000_000_000, "format": "jpeg", "width": 1200,
        "height": 900, "has_alpha": False, "frames": 1, "public": False, "owner": "alice",
        "exif": EXIF, "placeholder": "LEHV6nWB2yk8pyo0adR*.7kCMdnj", "dominant_color": "#a0b1c2",
    }  # fmt: skip
    return Image(**(values | overrides))


def _count(session: Session, model: type[Upload] | type[Grant]) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_image_round_trip(session: Session) -> None:
    queries.add_image(session, _image())
    session.commit()
    session.expire_all()
    image = queries.get_image(session, HASH)
    assert image is not None
    assert (image.bytes, image.format) == (5_000_000_000, "jpeg")
    assert (image.width, image.height) == (1200, 900)
    assert (image.has_alpha, image.frames, image.public, image.owner) == (False, 1, False, "alice")
    assert image.exif == EXIF
    assert image.placeholder == "LEHV6nWB2yk8pyo0adR*.7kCMdnj"
    assert image.dominant_color == "#a0b1c2"
    assert image.created_at.tzinfo is not None
    assert abs(datetime.now(UTC) - image.created_at) < timedelta(minutes=1)
    assert queries.get_image(session, "0" * 64) is None


def test_optional_image_fields(session: Session) -> None:
    queries.add_image(session, _image(owner=None, placeholder=None, dominant_color=None, exif={}))
    session.commit()
    session.expire_all()
    image = queries.get_image(session, HASH)
    assert image is not None
    assert (image.owner, image.placeholder, image.dominant_color) == (None, None, None)
    assert image.exif == {}


def test_duplicate_image_hash_is_refused(session: Session) -> None:
    queries.add_image(session, _image())
    session.commit()
    with pytest.raises(IntegrityError):
        queries.add_image(session, _image())
    session.rollback()


def test_uploads_and_grants_are_deleted_with_their_image(session: Session) -> None:
    other = hashlib.sha256(b"another").hexdigest()
    queries.add_image(session, _image())
    queries.add_image(session, _image(other))
    session.add_all(
        [
            Upload(image_hash=HASH, user="alice", original_filename="cat.jpg"),
            Upload(image_hash=HASH, user=None, original_filename=None),
            Upload(image_hash=other, user="bob"),
        ]
    )
    queries.add_grant(session, HASH, "bob", datetime.now(UTC) + timedelta(days=1))
    session.commit()
    assert (_count(session, Upload), _count(session, Grant)) == (3, 1)

    assert queries.delete_image(session, HASH)  # a bulk DELETE: the database cascades
    session.commit()
    assert queries.get_image(session, HASH) is None
    assert (_count(session, Upload), _count(session, Grant)) == (1, 0)
    assert not queries.delete_image(session, HASH)


def test_upload_needs_an_existing_image(session: Session) -> None:
    session.add(Upload(image_hash="f" * 64, user="alice"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_grants(session: Session) -> None:
    queries.add_image(session, _image())
    now = datetime.now(UTC)
    grant = queries.add_grant(session, HASH, "bob", now + timedelta(hours=1))
    session.commit()
    session.expire_all()
    assert grant.expires_at.tzinfo is not None
    assert abs(grant.expires_at - (now + timedelta(hours=1))) < timedelta(milliseconds=1)
    assert queries.has_grant(session, HASH, "bob")
    assert not queries.has_grant(session, HASH, "carol")
    assert not queries.has_grant(session, HASH, "bob", now=now + timedelta(hours=2))


def test_a_second_grant_for_the_same_image_and_user_is_refused(session: Session) -> None:
    queries.add_image(session, _image())
    queries.add_grant(session, HASH, "bob", datetime.now(UTC) + timedelta(hours=1))
    queries.add_grant(session, HASH, "carol", datetime.now(UTC) + timedelta(hours=1))
    session.commit()
    with pytest.raises(IntegrityError):
        queries.add_grant(session, HASH, "bob", datetime.now(UTC) + timedelta(days=2))
    session.rollback()


def test_naive_timestamps_are_refused(session: Session) -> None:
    queries.add_image(session, _image())
    with pytest.raises(Exception, match="timezone-aware"):
        queries.add_grant(session, HASH, "bob", datetime(2030, 1, 1))
    session.rollback()


def test_api_keys_store_only_a_hash(session: Session) -> None:
    key = "s3cret-key-for-alice-0123456789"
    row = queries.add_api_key(session, "alice", key)
    session.commit()
    session.expire_all()
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert len(row.key_hash) == 64
    assert key not in {row.user, row.key_hash}
    assert row.revoked_at is None
    assert row.created_at.tzinfo is not None
    assert queries.user_for_api_key(session, key) == "alice"
    assert queries.user_for_api_key(session, "some-other-key-0123456789") is None

    assert queries.revoke_api_key_row(session, row)
    session.commit()
    session.expire_all()
    assert row.revoked_at is not None
    assert row.revoked_at.tzinfo is not None
    assert queries.user_for_api_key(session, key) is None
    assert not queries.revoke_api_key_row(session, row)


def test_api_key_hashes_are_unique(session: Session) -> None:
    queries.add_api_key(session, "alice", "the-same-key-0123456789")
    session.commit()
    session.add(ApiKey(user="bob", key_hash=queries.hash_api_key("the-same-key-0123456789")))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
