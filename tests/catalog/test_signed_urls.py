"""`POST /image/<hash>/signed-url` (docs/api.md §2, §5): the owner hands out expiring URLs.

The returned URL reads the private image (or the variant it names) without a key, still
`private, no-cache`; any change to it is 403 `invalid_signature`, and past its expiry it is
403 `expired_signature`.
"""

from __future__ import annotations

import time
from typing import cast
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from images_server.security.signing import sign
from images_server.services import Services
from tests.catalog.support import (
    ADMIN,
    ALICE,
    BOB,
    KEYS,
    PRIVATE,
    MakeApp,
    assert_error,
    bearer,
    upload,
)
from tests.images import decode, quadrant_bytes

PICTURE = quadrant_bytes(40, 30, "png")
TTL = 1234
LONGEST = 7200


@pytest.fixture
def app(make_app: MakeApp) -> Flask:
    return make_app(api_keys=KEYS, signed_url_ttl=TTL, max_link_ttl=LONGEST)


@pytest.fixture
def digest(app: Flask) -> str:
    response = upload(app.test_client(), PICTURE, ALICE, public="false")
    assert response.status_code == 201
    return str(response.get_json()["hash"])


def _sign(client: FlaskClient, digest: str, body: object, key: str | None = ALICE) -> TestResponse:
    return client.post(f"/image/{digest}/signed-url", json=body, headers=bearer(key))


def _local(url: str) -> str:
    """The path and query of an absolute URL, as the test client requests it."""
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https")
    assert parts.netloc
    return f"{parts.path}?{parts.query}"


def test_a_signed_url_reads_the_private_original(app: Flask, digest: str) -> None:
    client = app.test_client()
    before = int(time.time())
    response = _sign(client, digest, {})
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "success"
    assert before + TTL <= body["expires_at"] <= int(time.time()) + TTL
    url = _local(body["url"])
    assert url.startswith(f"/image/{digest}?")
    assert f"expires={body['expires_at']}" in url
    read = client.get(url)
    assert read.status_code == 200
    assert read.headers["Cache-Control"] == PRIVATE
    assert (decode(read.data).width, decode(read.data).height) == (40, 30)
    assert_error(client.get(f"/image/{digest}"), 403, "private_image")


def test_a_signed_url_names_a_variant(app: Flask, digest: str) -> None:
    client = app.test_client()
    before = int(time.time())
    body = _sign(client, digest, {"operations": "/resize/20x/", "expires_in": 60}).get_json()
    assert before + 60 <= body["expires_at"] <= int(time.time()) + 60
    url = _local(body["url"])
    assert url.startswith(f"/image/{digest}/resize/20x?")
    read = client.get(url)
    assert read.status_code == 200
    assert read.headers["Cache-Control"] == PRIVATE
    assert decode(read.data).width == 20
    assert_error(client.get(url.replace("20x", "21x")), 403, "invalid_signature")
    assert_error(client.get(url.replace("/resize/20x", "")), 403, "invalid_signature")
    path, _, query = url.partition("?")
    tampered = query[:-1] + ("A" if query[-1] != "A" else "B")
    assert_error(client.get(f"{path}?{tampered}"), 403, "invalid_signature")
    later = query.replace(f"expires={body['expires_at']}", f"expires={body['expires_at'] + 1}")
    assert_error(client.get(f"{path}?{later}"), 403, "invalid_signature")
    # A `^` is signed in its percent-encoded form, the form a client sends.
    fill = _local(_sign(client, digest, {"operations": "resize/20x20^"}).get_json()["url"])
    assert fill.startswith(f"/image/{digest}/resize/20x20%5E?")
    assert decode(client.get(fill).data).height == 20


def test_an_expired_url_is_refused(app: Flask, digest: str) -> None:
    services = cast(Services, app.extensions["images"])
    key = services.signing_keys.get(services.settings)[0]
    client = app.test_client()
    # Expiry is whole seconds: `expires_in: 1` could leave a URL a few milliseconds to live.
    url = _local(_sign(client, digest, {"expires_in": 2}).get_json()["url"])
    assert client.get(url).status_code == 200
    past = int(time.time()) - 10
    assert_error(client.get(sign(f"/image/{digest}", "", key, past)), 403, "expired_signature")
    future = sign(f"/image/{digest}", "", key, int(time.time()) + 60)
    assert client.get(future).status_code == 200  # the same key: only the expiry differs


def test_bad_requests_are_refused(app: Flask, digest: str) -> None:
    client = app.test_client()
    for expires_in in (0, -1, "x", True, 1.5, None, LONGEST + 1):
        assert_error(_sign(client, digest, {"expires_in": expires_in}), 400, "bad_request")
    assert _sign(client, digest, {"expires_in": LONGEST}).status_code == 200
    bodies: tuple[object, ...] = ([], "resize/20x", {"operations": 20})
    for body in bodies:
        assert_error(_sign(client, digest, body), 400, "bad_request")


def test_bad_operations_are_refused(app: Flask, digest: str) -> None:
    response = _sign(app.test_client(), digest, {"operations": "resize/abc"})
    assert_error(response, 400, "invalid_pipeline")


def test_only_the_owner_or_an_admin_signs(app: Flask, digest: str) -> None:
    client = app.test_client()
    assert_error(_sign(client, digest, {}, BOB), 403, "not_owner")
    assert_error(_sign(client, digest, {}, None), 401, "unauthorized")
    assert _sign(client, digest, {}, ADMIN).status_code == 200
    assert_error(_sign(client, "0" * 64, {}), 404, "file_not_found")
