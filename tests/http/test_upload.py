"""`POST /upload`: formats from magic bytes, limits before decoding, dedup, docs/api.md §2 JSON."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from images_server.app import create_app
from images_server.hashing import hash_bytes, parse_hash
from images_server.services import Services
from images_server.settings import Settings
from tests.images import decode, encode, quadrant_bytes, quadrant_image

FORMATS = ("jpeg", "png", "webp", "gif", "avif")


def upload(client: FlaskClient, data: bytes, name: str = "x.jpg") -> tuple[int, dict[str, object]]:
    response = client.post("/upload", data={"file": (io.BytesIO(data), name)})
    return response.status_code, response.get_json()


@pytest.mark.parametrize("fmt", FORMATS)
def test_accepts_each_supported_format(client: FlaskClient, fmt: str) -> None:
    data = quadrant_bytes(64, 48, fmt)
    status, body = upload(client, data, name="whatever.bin")
    assert status == 201, body
    assert body["status"] == "success"
    assert body["hash"] == hash_bytes(data)
    assert (body["width"], body["height"], body["format"], body["bytes"]) == (
        64,
        48,
        fmt,
        len(data),
    )
    assert str(body["url"]).endswith(f"/image/{body['hash']}")


def test_raw_image_body_is_accepted(client: FlaskClient) -> None:
    data = quadrant_bytes(20, 10, "png")
    response = client.post("/upload", data=data, content_type="image/png")
    assert response.status_code == 201
    assert response.get_json()["hash"] == hash_bytes(data)


def test_same_bytes_give_the_same_hash_and_one_copy(
    client: FlaskClient, settings: Settings
) -> None:
    data = quadrant_bytes(30, 30, "jpeg")
    first = upload(client, data)[1]
    second = upload(client, data)[1]
    assert first["hash"] == second["hash"]
    stored = [p for p in settings.originals_dir.rglob("*") if p.is_file()]
    assert len(stored) == 1
    assert stored[0].read_bytes() == data  # stored as uploaded


def test_original_is_stored_as_uploaded_and_served_without_metadata(
    client: FlaskClient, services: Services, samples: Path
) -> None:
    data = (samples / "camera-iphone-8mp-3264x2448.jpg").read_bytes()
    # a raw body: werkzeug's test client leaks the temp file of a multipart body over 500 KB
    body = client.post("/upload", data=data, content_type="image/jpeg").get_json()
    assert services.storage.get(parse_hash(body["hash"])) == data  # stored as uploaded
    served = client.get(f"/image/{body['hash']}").data
    assert any(field.startswith("exif-ifd3-GPS") for field in decode(data).get_fields())
    assert not [field for field in decode(served).get_fields() if field.startswith("exif")]
    assert float((decode(served) - decode(data)).abs().max()) == 0  # losslessly stripped


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"this is text, not an image", "x.jpg"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "x.svg"),
        (b"%PDF-1.4\n", "x.png"),
        (b"BM" + b"\0" * 60, "x.bmp"),
    ],
)
def test_not_an_image_is_415(client: FlaskClient, data: bytes, name: str) -> None:
    status, body = upload(client, data, name)
    assert status == 415
    assert body["code"] == "unsupported_format"


@pytest.mark.parametrize("fmt", FORMATS)
def test_truncated_image_is_422(client: FlaskClient, fmt: str) -> None:
    data = encode(quadrant_image(300, 200), fmt)
    status, body = upload(client, data[: len(data) * 2 // 3])
    assert status == 422, body
    assert body["code"] == "undecodable_image"


def test_pixel_limit_is_checked_from_the_header(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, max_pixels=1000))
    status, body = upload(app.test_client(), quadrant_bytes(40, 30, "png"))
    assert status == 413
    assert body["code"] == "too_many_pixels"
    assert not (tmp_path / "originals").exists()


def test_byte_limit(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, max_upload_bytes=1000))
    client = app.test_client()
    big = quadrant_bytes(400, 400, "png")
    assert len(big) > 1000
    status, body = upload(client, big)
    assert status == 413
    assert body["code"] == "upload_too_large"
    raw = client.post("/upload", data=big * 100, content_type="image/png")
    assert raw.status_code == 413
    assert raw.get_json()["code"] == "upload_too_large"


def test_uploads_can_be_turned_off(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, upload_enabled=False))
    status, body = upload(app.test_client(), quadrant_bytes(10, 10))
    assert status == 403
    assert body["code"] == "upload_disabled"


def test_missing_file_field_and_empty_body_are_400(client: FlaskClient) -> None:
    response = client.post("/upload", data={"other": "x"}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "'file'" in response.get_json()["message"]
    empty = client.post("/upload", data=b"", content_type="image/png")
    assert empty.status_code == 400
