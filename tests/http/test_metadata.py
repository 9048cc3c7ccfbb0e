"""`GET /image/<hash>/metadata`: docs/api.md §2's JSON, §4's caching and §5's privacy, over HTTP;
and the same placeholder and dominant colour as a pack of the same image."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from images_server.jobs.packs import run_pack
from images_server.services import Services
from tests.images import quadrant_bytes
from tests.test_metadata import KEYS as DESCRIBED

MISSING = "0" * 64
KEYS = ["hash", *DESCRIBED, "focal", "faces"]


def upload(client: FlaskClient, data: bytes, name: str) -> str:
    response = client.post("/upload", data={"file": (io.BytesIO(data), name)})
    assert response.status_code == 201
    return str(response.get_json()["hash"])


@pytest.fixture
def uploaded(client: FlaskClient) -> str:
    return upload(client, quadrant_bytes(400, 300, "png", alpha=True), "q.png")


def test_metadata_json(client: FlaskClient, uploaded: str) -> None:
    response = client.get(f"/image/{uploaded}/metadata")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert list(body) == KEYS
    assert body["hash"] == uploaded
    assert (body["width"], body["height"], body["format"]) == (400, 300, "png")
    assert (body["mime"], body["has_alpha"], body["frames"]) == ("image/png", True, 1)
    assert len(body["placeholder"]) == 28
    assert body["dominant_color"].startswith("#")
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["ETag"] == f'"{uploaded[:16]}-meta-v1"'


@pytest.mark.parametrize("digest", [MISSING, "metadata", "ABC", MISSING.upper()])
def test_unknown_or_malformed_hash_is_404(client: FlaskClient, digest: str) -> None:
    response = client.get(f"/image/{digest}/metadata")
    assert response.status_code == 404
    assert response.get_json()["status"] == "error"


def test_if_none_match_gives_304(client: FlaskClient, uploaded: str) -> None:
    url = f"/image/{uploaded}/metadata"
    etag = client.get(url).headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_route_does_not_collide_with_pipelines(client: FlaskClient, uploaded: str) -> None:
    assert client.get(f"/image/{uploaded}/metadata").mimetype == "application/json"
    resized = client.get(f"/image/{uploaded}/resize/100x")
    assert (resized.status_code, resized.mimetype) == (200, "image/png")
    # "metadata" is only a route on its own: later segments are a pipeline, and not a valid one.
    assert client.get(f"/image/{uploaded}/metadata/resize/100x").status_code == 400


def test_deleted_image_has_no_metadata(client: FlaskClient, uploaded: str) -> None:
    assert client.delete(f"/image/{uploaded}").status_code == 200
    assert client.get(f"/image/{uploaded}/metadata").status_code == 404


def test_no_gps_or_serial_leaves(client: FlaskClient, samples: Path) -> None:
    data = (samples / "camera-iphone-8mp-3264x2448.jpg").read_bytes()
    # A raw body: werkzeug spools a large multipart file to a temp file /upload leaves open.
    posted = client.post("/upload", data=data, content_type="image/jpeg")
    assert posted.status_code == 201
    body = client.get(f"/image/{posted.get_json()['hash']}/metadata").get_json()
    assert body["exif"]["make"] == "Apple"
    assert body["exif"]["taken_at"] == "2015-04-10T20:12:23"
    text = json.dumps(body)
    assert "GPS" not in text
    assert "Serial" not in text
    assert "40, 26" not in text


@pytest.mark.parametrize("name", ["photo-12mp-4000x3000.jpg", "dice-alpha-300x225.png"])
def test_metadata_and_a_pack_agree_on_the_placeholder_and_colour(
    client: FlaskClient, services: Services, samples: Path, name: str
) -> None:
    """One sample of the image gives both: the BlurHash and dominant colour are the same."""
    data = (samples / name).read_bytes()
    mime = "image/png" if name.endswith(".png") else "image/jpeg"
    posted = client.post("/upload", data=data, content_type=mime)
    assert posted.status_code == 201
    meta = client.get(f"/image/{posted.get_json()['hash']}/metadata").get_json()
    created = client.post("/packs?widths=160&formats=webp", data=data, content_type=mime)
    pack_id = created.get_json()["id"]
    assert run_pack(services, pack_id)
    manifest = client.get(f"/packs/{pack_id}").get_json()["manifest"]
    assert manifest["placeholder"]["dominant_color"] == meta["dominant_color"]
    assert manifest["placeholder"]["blurhash"] == meta["placeholder"]
    assert manifest["analysis"]["dominant_color"] == meta["dominant_color"]
    assert len(meta["placeholder"]) == 28
