"""Signatures and API keys over the app's HTTP interface (docs/api.md §2 and §5)."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import cast

import pytest
from flask import Flask, Response, jsonify
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from images_server.app import create_app
from images_server.hashing import parse_hash
from images_server.http.caller import caller
from images_server.security.signing import sign, signing_keys
from images_server.services import Services
from images_server.settings import Settings
from tests.images import quadrant_bytes
from tests.origin import Origin

SECRET = "current-signing-key"
OLD_SECRET = "previous-signing-key"
ALICE = "alice-key-0123456789"
BOB = "bob-key-0123456789ab"


def make_app(data_dir: Path, **overrides: object) -> Flask:
    values: dict[str, object] = {"data_dir": data_dir, "engine": "vips"}
    values.update(overrides)
    return create_app(Settings(**values))  # type: ignore[arg-type]


def signed(url: str, key: str = SECRET, expires: int | None = None) -> str:
    path, _, query = url.partition("?")
    return sign(path, query, key.encode(), expires)


def upload(client: FlaskClient, headers: dict[str, str] | None = None) -> TestResponse:
    data = quadrant_bytes(40, 30, "png")
    return client.post("/upload", data={"file": (io.BytesIO(data), "q.png")}, headers=headers)


def assert_error(response: TestResponse, status: int, code: str) -> None:
    assert response.status_code == status
    body = response.get_json()
    assert body["status"] == "error"
    assert body["code"] == code
    assert body["message"]


@pytest.fixture
def digest(tmp_path: Path) -> str:
    with make_app(tmp_path / "data").test_client() as client:
        return str(upload(client).get_json()["hash"])


@pytest.fixture
def signed_only(tmp_path: Path, digest: str) -> FlaskClient:
    app = make_app(tmp_path / "data", secret_key=(SECRET, OLD_SECRET), require_signature=True)
    return app.test_client()


@pytest.mark.parametrize(
    "suffix", ["/resize/20x", "/resize/20x20%5E", "?size=thumb", "?format=webp", "/?format=png"]
)
def test_transforms_need_a_signature(signed_only: FlaskClient, digest: str, suffix: str) -> None:
    url = f"/image/{digest}{suffix}"
    assert_error(signed_only.get(url), 403, "invalid_signature")
    assert signed_only.head(url).status_code == 403
    response = signed_only.get(signed(url))
    assert response.status_code == 200
    assert (response.mimetype or "").startswith("image/")


@pytest.mark.parametrize("suffix", ["", "/", "?v=2", "?expires=1"])
def test_the_original_is_not_a_transform(
    signed_only: FlaskClient, digest: str, suffix: str
) -> None:
    assert signed_only.get(f"/image/{digest}{suffix}").status_code == 200


def test_a_signed_url_is_the_unsigned_variant(tmp_path: Path, digest: str) -> None:
    url = f"/image/{digest}/resize/20x20%5E/format/webp?format=png"
    plain = make_app(tmp_path / "data").test_client().get(url)
    app = make_app(tmp_path / "data", secret_key=(SECRET,), require_signature=True)
    first = app.test_client().get(signed(url))
    again = app.test_client().get(signed(url, expires=int(time.time()) + 600))
    assert plain.status_code == first.status_code == again.status_code == 200
    assert plain.data == first.data == again.data
    assert plain.headers["ETag"] == first.headers["ETag"] == again.headers["ETag"]
    services = cast(Services, app.extensions["images"])
    assert services.cache.purge(parse_hash(digest)) == 1  # the signature is not in the cache key
    etag = first.headers["ETag"]
    assert app.test_client().get(signed(url), headers={"If-None-Match": etag}).status_code == 304


def test_signed_urls_are_cached_only_until_they_expire(
    signed_only: FlaskClient, digest: str
) -> None:
    url = f"/image/{digest}/resize/20x"
    forever = signed_only.get(signed(url))
    assert forever.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    expiring = signed_only.get(signed(url, expires=int(time.time()) + 600))
    cache_control = expiring.cache_control
    assert cache_control.public
    assert cache_control.max_age is not None
    assert 590 <= cache_control.max_age <= 600
    assert not cache_control.immutable


def test_expired_and_tampered_urls_are_refused(signed_only: FlaskClient, digest: str) -> None:
    url = signed(f"/image/{digest}/resize/20x", expires=int(time.time()) - 1)
    assert_error(signed_only.get(url), 403, "expired_signature")
    url = signed(f"/image/{digest}/resize/20x", expires=int(time.time()) + 60)
    assert signed_only.get(url).status_code == 200
    assert_error(signed_only.get(url.replace("20x", "21x")), 403, "invalid_signature")
    assert_error(signed_only.get(url.replace("expires=", "expires=9")), 403, "invalid_signature")
    assert_error(signed_only.get(url + "&format=webp"), 403, "invalid_signature")
    assert_error(signed_only.get(signed(url, key="not-a-key")), 403, "invalid_signature")


def test_an_old_key_still_verifies(signed_only: FlaskClient, digest: str) -> None:
    assert signed_only.get(signed(f"/image/{digest}/resize/20x", key=OLD_SECRET)).status_code == 200


def test_external_needs_a_signature(tmp_path: Path, origin: Origin) -> None:
    app = make_app(
        tmp_path / "data",
        secret_key=(SECRET,),
        require_signature=True,
        external_allow_hosts=(f"127.0.0.1:{origin.port}",),
    )
    client = app.test_client()
    url = f"/external?url={origin.url('/photo.png')}&operations=resize/40x"
    assert_error(client.get(url), 403, "invalid_signature")
    assert_error(client.get("/external"), 403, "invalid_signature")
    assert origin.hits["/photo.png"] == 0
    response = client.get(signed(url))
    assert response.status_code == 200
    assert origin.hits["/photo.png"] == 1
    assert_error(client.get(signed(url) + "&reset_cache=1"), 403, "invalid_signature")


def test_a_bad_signature_fails_even_when_none_is_required(tmp_path: Path, digest: str) -> None:
    client = make_app(tmp_path / "data", secret_key=(SECRET,)).test_client()
    url = f"/image/{digest}/resize/20x"
    assert client.get(url).status_code == 200
    assert client.get(signed(url)).status_code == 200
    assert_error(client.get(f"{url}?signature=forged"), 403, "invalid_signature")
    assert_error(client.get(f"/image/{digest}?signature=forged"), 403, "invalid_signature")
    expired = signed(url, expires=int(time.time()) - 1)
    assert_error(client.get(expired), 403, "expired_signature")


def test_unknown_routes_stay_404(signed_only: FlaskClient) -> None:
    assert_error(signed_only.get("/nowhere/resize/20x?signature=forged"), 404, "not_found")
    assert_error(signed_only.get("/image/not-a-hash/resize/20x"), 403, "invalid_signature")


def _keys(app: Flask) -> tuple[bytes, ...]:
    services = cast(Services, app.extensions["images"])
    return services.signing_keys.get(services.settings)


def test_the_generated_key_is_kept_in_the_data_dir(tmp_path: Path, digest: str) -> None:
    settings = Settings(data_dir=tmp_path / "data", require_signature=True)
    assert not (tmp_path / "data" / "secret_key").exists()
    first, second = create_app(settings), create_app(settings)
    assert (tmp_path / "data" / "secret_key").exists()  # made at start when signatures are on
    key = _keys(first)
    assert _keys(second) == key == signing_keys(settings)
    url = sign(f"/image/{digest}/resize/20x", "", key[0])
    assert first.test_client().get(url).status_code == 200
    assert second.test_client().get(url).status_code == 200


@pytest.fixture
def keyed(tmp_path: Path) -> Flask:
    app = make_app(tmp_path / "data", api_keys=(f"alice:{ALICE}", f"bob:{BOB}"))

    @app.post("/whoami")
    def whoami() -> Response:  # stands for any write route added later
        return jsonify(user=caller().user)

    @app.get("/whoami")
    def whoami_get() -> Response:
        return jsonify(user=caller().user)

    return app


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize("headers", [{}, bearer("wrong-key-0123456789"), {"Authorization": ALICE}])
def test_writes_need_an_api_key(keyed: Flask, headers: dict[str, str]) -> None:
    client = keyed.test_client()
    for response in (
        upload(client, headers),
        client.delete(f"/image/{'0' * 64}", headers=headers),
        client.post("/whoami", headers=headers),
        client.put("/image/whatever", headers=headers),
    ):
        assert_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.headers["Cache-Control"] == "no-store"


def test_the_right_key_writes_and_names_its_user(keyed: Flask) -> None:
    client = keyed.test_client()
    uploaded = upload(client, bearer(ALICE))
    assert uploaded.status_code == 201
    assert client.post("/whoami", headers=bearer(BOB)).get_json() == {"user": "bob"}
    digest = uploaded.get_json()["hash"]
    assert client.delete(f"/image/{digest}").status_code == 401
    assert_error(client.delete(f"/image/{digest}", headers=bearer(BOB)), 403, "not_owner")
    assert client.delete(f"/image/{digest}", headers=bearer(ALICE)).status_code == 200
    assert_error(client.delete(f"/image/{digest}", headers=bearer(ALICE)), 404, "file_not_found")


def test_reads_never_need_a_key(keyed: Flask) -> None:
    client = keyed.test_client()
    digest = upload(client, bearer(ALICE)).get_json()["hash"]
    assert client.get(f"/image/{digest}").status_code == 200
    assert client.get(f"/image/{digest}/resize/10x").status_code == 200
    assert client.head(f"/image/{digest}").status_code == 200
    assert client.options("/upload").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.get("/whoami").get_json() == {"user": None}
    assert client.get("/whoami", headers=bearer(ALICE)).get_json() == {"user": "alice"}
    assert_error(client.get("/whoami", headers=bearer("wrong-key")), 401, "unauthorized")


def test_without_keys_writes_are_open(tmp_path: Path) -> None:
    client = make_app(tmp_path / "data").test_client()
    response = upload(client, bearer("anything-at-all-here"))
    assert response.status_code == 201
    assert "WWW-Authenticate" not in response.headers
