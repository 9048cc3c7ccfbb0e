"""Private images (docs/api.md §5): every way of reading one needs access, and never a shared cache.

The original, a path variant, a `?size=` preset and `/metadata` of a private image answer 403
`private_image` without access, even to a conditional request that names the right ETag; the
owner's and an admin's key read them with `Cache-Control: private, no-cache`.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from images_server.db.engine import make_engine
from images_server.db.models import Image, Upload
from tests.catalog.support import (
    ADMIN,
    ALICE,
    BOB,
    IMMUTABLE,
    KEYS,
    PRIVATE,
    MakeApp,
    assert_error,
    bearer,
    count,
    upload,
)
from tests.images import quadrant_bytes

PICTURE = quadrant_bytes(40, 30, "png")
READS = ("", "/resize/10x", "?size=thumb", "/metadata")


def _private_hash(client: FlaskClient, how: str) -> str:
    if how == "multipart":
        response = upload(client, PICTURE, ALICE, public="false")
    else:  # a raw image body, `public` in the query
        response = client.post(
            "/upload?public=false", data=PICTURE, content_type="image/png", headers=bearer(ALICE)
        )
    assert response.status_code == 201
    assert response.get_json()["public"] is False
    return str(response.get_json()["hash"])


def _assert_private(client: FlaskClient, digest: str) -> None:
    for suffix in READS:
        url = f"/image/{digest}{suffix}"
        for key in (None, BOB):
            assert_error(client.get(url, headers=bearer(key)), 403, "private_image")
        for key in (ALICE, ADMIN):
            response = client.get(url, headers=bearer(key))
            assert response.status_code == 200, url
            assert response.headers["Cache-Control"] == PRIVATE
            etag = response.headers["ETag"]
            # A client that already holds the bytes still may not learn it may keep them.
            conditional = client.get(url, headers={"If-None-Match": etag})
            assert_error(conditional, 403, "private_image")
            again = client.get(url, headers={"If-None-Match": etag, **bearer(key)})
            assert again.status_code == 304
            assert again.headers["Cache-Control"] == PRIVATE
        # The owner's read filled the result cache: that opens it to nobody else.
        assert_error(client.get(url), 403, "private_image")
        assert client.head(url).status_code == 403


@pytest.mark.parametrize("how", ["multipart", "raw"])
def test_an_upload_can_be_private(keyed: Flask, how: str) -> None:
    client = keyed.test_client()
    digest = _private_hash(client, how)
    assert count(keyed, Image, hash=digest, public=False, owner="alice") == 1
    _assert_private(client, digest)


def test_the_default_can_be_private(make_app: MakeApp) -> None:
    app = make_app(api_keys=KEYS, default_public=False)
    client = app.test_client()
    response = upload(client, PICTURE, ALICE)
    assert response.status_code == 201
    assert response.get_json()["public"] is False
    _assert_private(client, response.get_json()["hash"])
    public = upload(client, quadrant_bytes(41, 30, "png"), ALICE, public="true")
    assert public.get_json()["public"] is True


def test_a_public_image_stays_immutable(keyed: Flask) -> None:
    client = keyed.test_client()
    response = upload(client, PICTURE, ALICE, public="yes")
    assert response.get_json()["public"] is True
    digest = response.get_json()["hash"]
    for suffix in READS:
        for key in (None, ALICE):
            read = client.get(f"/image/{digest}{suffix}", headers=bearer(key))
            assert read.status_code == 200
            assert read.headers["Cache-Control"] == IMMUTABLE


def test_a_bad_public_value_is_refused(keyed: Flask) -> None:
    client = keyed.test_client()
    for value in ("maybe", "2", "falsy"):
        assert_error(upload(client, PICTURE, ALICE, public=value), 400, "bad_request")
        raw = client.post(
            f"/upload?public={value}", data=PICTURE, content_type="image/png", headers=bearer(ALICE)
        )
        assert_error(raw, 400, "bad_request")
    assert count(keyed, Image) == count(keyed, Upload) == 0


def test_a_second_uploader_may_read_the_private_image(keyed: Flask) -> None:
    client = keyed.test_client()
    digest = _private_hash(client, "multipart")
    assert_error(client.get(f"/image/{digest}", headers=bearer(BOB)), 403, "private_image")
    again = upload(client, PICTURE, BOB, public="true")  # bob holds the same bytes
    assert again.status_code == 201
    assert again.get_json()["public"] is False  # the first upload's visibility stays
    response = client.get(f"/image/{digest}/resize/10x", headers=bearer(BOB))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == PRIVATE
    assert count(keyed, Image, hash=digest, public=False, owner="alice") == 1


def test_a_row_turned_private_elsewhere_is_private_at_once(
    make_app: MakeApp, database_url: str
) -> None:
    """Another process turns a public image's row private (SQL on its own connection): the
    next read of its cached variant answers 403, whatever this process read before (on
    SQLite, the record kept in memory goes with the commit: images_server/db/unchanged.py)."""
    app = make_app(api_keys=KEYS)
    client = app.test_client()
    response = upload(client, quadrant_bytes(41, 30, "png"), ALICE, public="true")
    hash_ = response.get_json()["hash"]
    url = f"/image/{hash_}/resize/10x"
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200  # a cached variant, its record in memory
    elsewhere = make_engine(database_url)
    with elsewhere.begin() as connection:
        connection.execute(update(Image).where(Image.hash == hash_).values(public=False))
    elsewhere.dispose()
    assert_error(client.get(url), 403, "private_image")
