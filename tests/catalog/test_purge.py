"""`POST /image/<hash>/purge` and `DELETE /image/<hash>` (docs/api.md §2): cached variants go too.

Variants are counted as files in the result cache under the data dir; a DELETE also removes
the image's rows, its uploads and its grants. With no API key configured, writes stay open.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from images_server.db.models import Grant, Image, Upload
from images_server.hashing import parse_hash
from tests.catalog.support import (
    ADMIN,
    ALICE,
    BOB,
    MakeApp,
    assert_error,
    bearer,
    count,
    files,
    services,
    upload,
)
from tests.images import quadrant_bytes

PICTURE = quadrant_bytes(40, 30, "png")
OTHER = quadrant_bytes(30, 40, "png")
VARIANTS = ("/resize/10x", "/resize/20x", "?size=thumb")


def _cached(app: Flask, digest: str) -> list[Path]:
    return [path for path in files(services(app).settings.cache_dir) if digest in str(path)]


def _render_variants(client: FlaskClient, digest: str, key: str | None = None) -> None:
    for suffix in VARIANTS:
        assert client.get(f"/image/{digest}{suffix}", headers=bearer(key)).status_code == 200


def _upload(client: FlaskClient, data: bytes, key: str | None = None, public: str = "false") -> str:
    response = upload(client, data, key, public=public)
    assert response.status_code == 201
    return str(response.get_json()["hash"])


def test_the_owner_purges_the_variants(keyed: Flask) -> None:
    client = keyed.test_client()
    digest, other = _upload(client, PICTURE, ALICE), _upload(client, OTHER, ALICE)
    _render_variants(client, digest, ALICE)
    _render_variants(client, other, ALICE)
    assert len(_cached(keyed, digest)) == len(VARIANTS)
    response = client.post(f"/image/{digest}/purge", headers=bearer(ALICE))
    assert response.status_code == 200
    assert response.get_json() == {"status": "success", "purged": {"result_cache": 3}}
    assert _cached(keyed, digest) == []
    assert services(keyed).cache.purge(parse_hash(digest)) == 0
    assert len(_cached(keyed, other)) == len(VARIANTS)  # another image keeps its variants
    again = client.post(f"/image/{digest}/purge", headers=bearer(ALICE))
    assert again.get_json() == {"status": "success", "purged": {"result_cache": 0}}
    assert client.get(f"/image/{digest}", headers=bearer(ALICE)).status_code == 200


def test_only_the_owner_or_an_admin_purges(keyed: Flask) -> None:
    client = keyed.test_client()
    digest = _upload(client, PICTURE, ALICE)
    _render_variants(client, digest, ALICE)
    assert_error(client.post(f"/image/{digest}/purge", headers=bearer(BOB)), 403, "not_owner")
    assert_error(client.post(f"/image/{digest}/purge"), 401, "unauthorized")
    assert len(_cached(keyed, digest)) == len(VARIANTS)
    response = client.post(f"/image/{digest}/purge", headers=bearer(ADMIN))
    assert response.get_json() == {"status": "success", "purged": {"result_cache": 3}}
    missing = client.post(f"/image/{'0' * 64}/purge", headers=bearer(ALICE))
    assert_error(missing, 404, "file_not_found")


def test_delete_removes_everything(keyed: Flask) -> None:
    client = keyed.test_client()
    digest, other = _upload(client, PICTURE, ALICE), _upload(client, OTHER, ALICE)
    assert upload(client, PICTURE, BOB).status_code == 201
    share = {"user": "carol", "expires_in": 60}
    assert (
        client.post(f"/image/{digest}/share", json=share, headers=bearer(ALICE)).status_code == 200
    )
    _render_variants(client, digest, ALICE)
    assert count(keyed, Upload, image_hash=digest) == 2
    assert_error(client.delete(f"/image/{digest}", headers=bearer(BOB)), 403, "not_owner")
    response = client.delete(f"/image/{digest}", headers=bearer(ALICE))
    assert response.status_code == 200
    assert response.get_json() == {"status": "success"}
    assert _cached(keyed, digest) == []
    assert count(keyed, Image, hash=digest) == 0
    assert count(keyed, Upload, image_hash=digest) == 0
    assert count(keyed, Grant, image_hash=digest) == 0
    assert not services(keyed).storage.exists(parse_hash(digest))
    assert_error(client.get(f"/image/{digest}", headers=bearer(ALICE)), 404, "file_not_found")
    assert count(keyed, Image, hash=other) == count(keyed, Upload, image_hash=other) == 1


def test_an_admin_deletes_any_image(keyed: Flask) -> None:
    client = keyed.test_client()
    digest = _upload(client, PICTURE, ALICE)
    assert client.delete(f"/image/{digest}", headers=bearer(ADMIN)).status_code == 200
    assert count(keyed, Image) == 0


def test_without_keys_anyone_purges_and_deletes(make_app: MakeApp) -> None:
    app = make_app()
    client = app.test_client()
    digest = _upload(client, PICTURE, public="true")
    assert count(app, Image, hash=digest, owner=None) == 1
    _render_variants(client, digest)
    response = client.post(f"/image/{digest}/purge", headers=bearer("anything-goes-here"))
    assert response.get_json() == {"status": "success", "purged": {"result_cache": 3}}
    _render_variants(client, digest)
    assert client.delete(f"/image/{digest}").status_code == 200
    assert _cached(app, digest) == []
    assert count(app, Image) == count(app, Upload) == 0
