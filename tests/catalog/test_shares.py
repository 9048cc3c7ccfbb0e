"""`POST /image/<hash>/share` (docs/api.md §2, §5): a grant lets one user's key read a private
image.

Expiry is tested by moving the grant's `expires_at` into the past in the database, not by
sleeping, so the tests do not depend on timing.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from images_server.db.models import Grant
from tests.catalog.support import (
    ALICE,
    BOB,
    CAROL,
    PRIVATE,
    assert_error,
    bearer,
    count,
    database,
    upload,
)
from tests.images import quadrant_bytes

PICTURE = quadrant_bytes(40, 30, "png")
READS = ("", "/resize/10x", "/metadata")


@pytest.fixture
def digest(keyed: Flask) -> str:
    response = upload(keyed.test_client(), PICTURE, ALICE, public="false")
    assert response.status_code == 201
    return str(response.get_json()["hash"])


def _reads(client: FlaskClient, digest: str, key: str) -> list[int]:
    return [client.get(f"/image/{digest}{s}", headers=bearer(key)).status_code for s in READS]


def test_a_share_lets_that_user_read(keyed: Flask, digest: str) -> None:
    client = keyed.test_client()
    assert _reads(client, digest, BOB) == [403, 403, 403]
    before = int(time.time())
    response = client.post(
        f"/image/{digest}/share", json={"user": "bob", "expires_in": 60}, headers=bearer(ALICE)
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["hash"], body["user"]) == ("success", digest, "bob")
    assert before + 60 <= body["expires_at"] <= int(time.time()) + 60
    for suffix in READS:
        read = client.get(f"/image/{digest}{suffix}", headers=bearer(BOB))
        assert read.status_code == 200
        assert read.headers["Cache-Control"] == PRIVATE
        assert_error(
            client.get(f"/image/{digest}{suffix}", headers=bearer(CAROL)), 403, "private_image"
        )
        assert_error(client.get(f"/image/{digest}{suffix}"), 403, "private_image")


def test_an_expired_share_no_longer_reads(keyed: Flask, digest: str) -> None:
    client = keyed.test_client()
    share = {"user": "bob", "expires_in": 60}
    assert (
        client.post(f"/image/{digest}/share", json=share, headers=bearer(ALICE)).status_code == 200
    )
    assert _reads(client, digest, BOB) == [200, 200, 200]
    with Session(database(keyed)) as session:
        past = datetime.now(UTC) - timedelta(seconds=1)
        session.execute(update(Grant).where(Grant.user == "bob").values(expires_at=past))
        session.commit()
    assert _reads(client, digest, BOB) == [403, 403, 403]
    # Sharing again replaces the expired grant: still one row, now in the future.
    assert (
        client.post(f"/image/{digest}/share", json=share, headers=bearer(ALICE)).status_code == 200
    )
    assert count(keyed, Grant, image_hash=digest, user="bob") == 1
    with Session(database(keyed)) as session:
        expires_at = session.execute(select(Grant.expires_at)).scalar_one()
    assert expires_at > datetime.now(UTC) + timedelta(seconds=50)
    assert _reads(client, digest, BOB) == [200, 200, 200]


def test_a_share_may_be_shortened(keyed: Flask, digest: str) -> None:
    client = keyed.test_client()
    for expires_in in (3600, 60):
        body = {"user": " bob ", "expires_in": expires_in}
        response = client.post(f"/image/{digest}/share", json=body, headers=bearer(ALICE))
        assert response.get_json()["user"] == "bob"
    assert count(keyed, Grant) == 1
    with Session(database(keyed)) as session:
        expires_at = session.execute(select(Grant.expires_at)).scalar_one()
    assert expires_at <= datetime.now(UTC) + timedelta(seconds=61)


def test_a_share_needs_a_user(keyed: Flask, digest: str) -> None:
    client = keyed.test_client()
    for body in (
        {},
        {"user": ""},
        {"user": "   "},
        {"user": 7},
        {"user": None},
        {"user": "x" * 256},
    ):
        response = client.post(f"/image/{digest}/share", json=body, headers=bearer(ALICE))
        assert_error(response, 400, "bad_request")
    assert count(keyed, Grant) == 0


def test_only_the_owner_shares(keyed: Flask, digest: str) -> None:
    client = keyed.test_client()
    body = {"user": "bob", "expires_in": 60}
    response = client.post(f"/image/{digest}/share", json=body, headers=bearer(BOB))
    assert_error(response, 403, "not_owner")
    assert_error(client.post(f"/image/{digest}/share", json=body), 401, "unauthorized")
    assert count(keyed, Grant) == 0
