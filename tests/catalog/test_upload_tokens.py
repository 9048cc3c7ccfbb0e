"""Upload tokens (docs/api.md §5) on a real app and database, SQLite then PostgreSQL: minted
with an API key, good for one upload as the key's user, within their size, visibility and
lifetime; refused with a stable code otherwise, leaving nothing stored."""

from __future__ import annotations

import hashlib
import io
import threading
import time
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from images_server.db.models import Image, Upload, UploadToken, utcnow
from tests.catalog.support import (
    ALICE,
    MakeApp,
    assert_error,
    bearer,
    count,
    database,
    services,
)
from tests.images import quadrant_bytes


def mint(
    client: FlaskClient, body: dict[str, object] | None = None, key: str | None = ALICE
) -> TestResponse:
    return client.post("/upload-tokens", json=body or {}, headers=bearer(key))


def token_of(client: FlaskClient, **body: object) -> str:
    response = mint(client, body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return str(response.get_json()["token"])


def send(client: FlaskClient, token: str, data: bytes, **form: str) -> TestResponse:
    fields: dict[str, object] = {"file": (io.BytesIO(data), "browser.png"), **form}
    return client.post("/upload", data=fields, headers=bearer(token))


def picture(seed: int = 0) -> bytes:
    return quadrant_bytes(40 + seed, 30, "png")


def test_minting_needs_an_api_key_and_stores_only_a_hash(keyed: Flask) -> None:
    client = keyed.test_client()
    assert_error(mint(client, key=None), 401, "unauthorized")
    before = int(time.time())
    response = mint(client)
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["status"] == "success"
    assert body["token"].startswith("iut_")
    assert len(body["token"]) > 40
    assert body["max_bytes"] == services(keyed).settings.max_upload_bytes
    assert before + 600 <= body["expires_at"] <= int(time.time()) + 600
    with Session(database(keyed)) as session:
        (row,) = session.execute(select(UploadToken)).scalars()
    assert row.token_hash == hashlib.sha256(body["token"].encode()).hexdigest()
    assert row.user == "alice"
    assert row.used_at is None
    assert row.public is True
    assert body["token"] not in {row.token_hash, row.user}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"max_bytes": 0}, "max_bytes"),
        ({"max_bytes": "100"}, "max_bytes"),
        ({"max_bytes": 10**12}, "max_bytes"),
        ({"expires_in": 0}, "expires_in"),
        ({"expires_in": 3601}, "expires_in"),
        ({"expires_in": True}, "expires_in"),
        ({"public": "yes"}, "public"),
    ],
)
def test_bad_values_are_refused_naming_the_field(
    keyed: Flask, body: dict[str, object], field: str
) -> None:
    response = mint(keyed.test_client(), body)
    assert_error(response, 400, "bad_request")
    assert f"'{field}'" in response.get_json()["message"]
    assert count(keyed, UploadToken) == 0


def test_a_body_that_is_not_an_object_is_refused(keyed: Flask) -> None:
    response = keyed.test_client().post("/upload-tokens", data="[1]", headers=bearer(ALICE))
    assert_error(response, 400, "bad_request")


def test_one_upload_owned_by_the_tokens_user_then_refused(keyed: Flask) -> None:
    client = keyed.test_client()
    token = token_of(client)
    first = send(client, token, picture())
    assert first.status_code == 201, first.get_data(as_text=True)
    digest = first.get_json()["hash"]
    with Session(database(keyed)) as session:
        image = session.get(Image, digest)
        assert image is not None
        assert image.owner == "alice"
        assert session.execute(select(Upload.user)).scalars().all() == ["alice"]
    second = send(client, token, picture(1))
    assert_error(second, 401, "upload_token_used")
    assert second.headers["WWW-Authenticate"].startswith("Bearer")
    assert count(keyed, Image) == 1  # the refused one stored nothing


def test_the_token_sets_the_visibility(keyed: Flask) -> None:
    client = keyed.test_client()
    response = send(client, token_of(client, public=False), picture())
    assert response.status_code == 201
    assert response.get_json()["public"] is False
    assert client.get(f"/image/{response.get_json()['hash']}").status_code == 403
    asked_public = send(client, token_of(client, public=False), picture(1), public="true")
    assert_error(asked_public, 400, "bad_request")
    assert "'public'" in asked_public.get_json()["message"]


def _race(app: Flask, token: str, seeds: tuple[int, int]) -> list[tuple[int, str | None]]:
    """Two clients upload with `token` at the same moment; their (status, code)s."""
    barrier = threading.Barrier(2)
    statuses: list[tuple[int, str | None]] = []

    def use(seed: int) -> None:
        with app.test_client() as own:
            barrier.wait()
            response = send(own, token, picture(seed))
            statuses.append((response.status_code, response.get_json().get("code")))

    threads = [threading.Thread(target=use, args=(seed,)) for seed in seeds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return sorted(statuses, key=lambda status: status[0])


def test_two_concurrent_uploads_with_one_token_exactly_one_wins(keyed: Flask) -> None:
    client = keyed.test_client()
    for round_ in range(3):
        statuses = _race(keyed, token_of(client), (round_ * 2, round_ * 2 + 1))
        assert statuses == [(201, None), (401, "upload_token_used")]
    assert count(keyed, Image) == 3


def test_an_expired_token_is_refused(keyed: Flask) -> None:
    client = keyed.test_client()
    token = token_of(client, expires_in=1)
    time.sleep(1.2)
    assert_error(send(client, token, picture()), 401, "upload_token_expired")
    assert count(keyed, Image) == 0


def test_an_unknown_token_is_refused(keyed: Flask) -> None:
    client = keyed.test_client()
    token = token_of(client)
    assert_error(send(client, token + "x", picture()), 401, "invalid_upload_token")
    assert_error(send(client, "iut_nothing", picture()), 401, "invalid_upload_token")
    assert send(client, token, picture()).status_code == 201  # the real one is unspent


def test_an_upload_over_the_tokens_limit_is_413_and_spends_nothing(keyed: Flask) -> None:
    client = keyed.test_client()
    small, large = picture(), quadrant_bytes(400, 300, "png")
    assert len(small) < 2000 < len(large)
    token = token_of(client, max_bytes=2000)
    raw = client.post(
        "/upload", data=large, content_type="image/png", headers=bearer(token)
    )  # Content-Length says it: refused before the token is spent
    assert_error(raw, 413, "upload_too_large")
    assert "upload token's limit of 2000 bytes" in raw.get_json()["message"]
    assert send(client, token, small).status_code == 201  # still good
    assert count(keyed, Image) == 1


def test_a_multipart_part_over_the_limit_is_413_once_read(keyed: Flask) -> None:
    client = keyed.test_client()
    token = token_of(client, max_bytes=2000)
    large = quadrant_bytes(400, 300, "png")  # within the multipart slack: read, then 413
    assert_error(send(client, token, large), 413, "upload_too_large")
    assert count(keyed, Image) == 0
    assert_error(send(client, token, picture()), 401, "upload_token_used")  # spent by then


def test_a_token_is_good_for_uploads_only(keyed: Flask) -> None:
    client = keyed.test_client()
    token = token_of(client)
    digest = send(client, token_of(client), picture()).get_json()["hash"]
    for response in (
        client.get(f"/image/{digest}", headers=bearer(token)),
        mint(client, key=token),
        client.delete(f"/image/{digest}", headers=bearer(token)),
    ):
        assert_error(response, 401, "invalid_upload_token")
    assert send(client, token, picture(1)).status_code == 201


def test_minting_deletes_stale_rows(keyed: Flask) -> None:
    client = keyed.test_client()
    stale, fresh = token_of(client), token_of(client)
    hours_ago = utcnow() - timedelta(hours=2)
    with Session(database(keyed)) as session, session.begin():
        digest = hashlib.sha256(stale.encode()).hexdigest()
        session.execute(
            update(UploadToken).where(UploadToken.token_hash == digest).values(expires_at=hours_ago)
        )
    assert count(keyed, UploadToken) == 2
    token_of(client)
    assert count(keyed, UploadToken) == 2  # the stale one went, the fresh and the new stay
    assert send(client, fresh, picture()).status_code == 201


def test_a_token_works_while_writes_are_open(make_app: MakeApp) -> None:
    client = make_app().test_client()
    token = token_of(client)
    response = send(client, token, picture())
    assert response.status_code == 201
    assert_error(send(client, token, picture(1)), 401, "upload_token_used")
