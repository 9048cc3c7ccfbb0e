"""`GET /image/<hash>[/<pipeline>]` and `DELETE`: docs/api.md §2 and §4 over the app's HTTP
interface."""

from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient

from images_server.hashing import parse_hash
from images_server.services import Services
from tests.images import QUADRANTS, decode, near, pixel, quadrant_bytes

MISSING = "0" * 64


@pytest.fixture
def uploaded(client: FlaskClient) -> tuple[str, bytes]:
    data = quadrant_bytes(400, 300, "png")
    response = client.post("/upload", data={"file": (io.BytesIO(data), "q.png")})
    assert response.status_code == 201
    return str(response.get_json()["hash"]), data


def test_original(client: FlaskClient, uploaded: tuple[str, bytes]) -> None:
    digest, data = uploaded
    response = client.get(f"/image/{digest}")
    assert response.status_code == 200
    assert float((decode(response.data) - decode(data)).abs().max()) == 0
    assert response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["ETag"].startswith('"')
    assert client.get(f"/image/{digest}/").data == response.data


def test_pipeline_is_applied_left_to_right(
    client: FlaskClient, uploaded: tuple[str, bytes]
) -> None:
    digest, _ = uploaded
    response = client.get(f"/image/{digest}/resize/200x/crop/ne50x50/format/jpeg")
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    image = decode(response.data)
    assert (image.width, image.height) == (50, 50)
    assert near(pixel(image, 25, 25), QUADRANTS["ne"])


@pytest.mark.parametrize(
    ("path", "mime"),
    [("format/webp", "image/webp"), ("format/avif", "image/avif"), ("format/gif", "image/gif")],
)
def test_content_type_follows_the_format(
    client: FlaskClient, uploaded: tuple[str, bytes], path: str, mime: str
) -> None:
    response = client.get(f"/image/{uploaded[0]}/resize/40x/{path}")
    assert response.status_code == 200
    assert response.mimetype == mime


def test_if_none_match_gives_304(client: FlaskClient, uploaded: tuple[str, bytes]) -> None:
    url = f"/image/{uploaded[0]}/resize/100x"
    first = client.get(url)
    etag = first.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    other = client.get(url, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200


def test_equivalent_pipelines_share_an_etag(
    client: FlaskClient, uploaded: tuple[str, bytes]
) -> None:
    digest = uploaded[0]
    first = client.get(f"/image/{digest}/resize/100x/quality/080/format/png")
    second = client.get(f"/image/{digest}/format/png/resize/100/quality/80")
    assert first.headers["ETag"] == second.headers["ETag"]
    assert first.data == second.data


def test_a_cache_hit_never_touches_storage(
    client: FlaskClient, services: Services, uploaded: tuple[str, bytes]
) -> None:
    digest = uploaded[0]
    first = client.get(f"/image/{digest}/resize/120x")
    services.storage.delete(parse_hash(digest))
    second = client.get(f"/image/{digest}/resize/120x")
    assert second.status_code == 200
    assert second.data == first.data
    assert client.get(f"/image/{digest}/resize/121x").status_code == 404


@pytest.mark.parametrize(
    "hash_", ["abc", MISSING.upper().replace("0", "A"), "g" * 64, MISSING + "0", "..%2F..%2Fetc"]
)
def test_a_malformed_hash_is_404(client: FlaskClient, hash_: str) -> None:
    response = client.get(f"/image/{hash_}/resize/10x")
    assert response.status_code == 404
    assert response.get_json()["status"] == "error"


def test_unknown_image_is_404_json(client: FlaskClient) -> None:
    response = client.get(f"/image/{MISSING}")
    assert response.status_code == 404
    assert response.get_json() == {
        "status": "error", "message": "file not found", "code": "file_not_found"
    }  # fmt: skip


def test_bad_pipeline_is_400_naming_the_segment(
    client: FlaskClient, uploaded: tuple[str, bytes]
) -> None:
    response = client.get(f"/image/{uploaded[0]}/resize/200x/blur/zz")
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "invalid_pipeline"
    assert "'blur/zz'" in body["message"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_output_over_the_limit_is_400(client: FlaskClient, uploaded: tuple[str, bytes]) -> None:
    response = client.get(f"/image/{uploaded[0]}/resize/20000x20000!")
    assert response.status_code == 400
    assert response.get_json()["code"] == "output_too_large"


def test_unknown_route_and_wrong_method_are_json(client: FlaskClient) -> None:
    missing = client.get("/nope")
    assert missing.status_code == 404
    assert missing.get_json()["code"] == "not_found"
    wrong = client.put(f"/image/{MISSING}")
    assert wrong.status_code == 405
    assert wrong.get_json()["code"] == "method_not_allowed"


def test_delete_removes_original_and_variants(
    client: FlaskClient, services: Services, uploaded: tuple[str, bytes]
) -> None:
    digest = uploaded[0]
    assert client.get(f"/image/{digest}/resize/50x").status_code == 200
    response = client.delete(f"/image/{digest}")
    assert response.status_code == 200
    assert response.get_json() == {"status": "success"}
    assert client.get(f"/image/{digest}").status_code == 404
    assert client.get(f"/image/{digest}/resize/50x").status_code == 404  # no stale variant
    assert services.cache.purge(parse_hash(digest)) == 0
    again = client.delete(f"/image/{digest}")
    assert again.status_code == 404
    assert again.get_json()["message"] == "file not found"
