"""docs/api.md §5 over HTTP: no response ever carries the uploader's GPS position or camera
serials."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import pyvips
from flask.testing import FlaskClient

from images_server.app import create_app
from images_server.settings import Settings
from tests.images import decode
from tests.origin import Origin


def _exif_fields(body: bytes) -> list[str]:
    return [field for field in decode(body).get_fields() if field.startswith("exif")]


@pytest.fixture
def gps_photo(samples: Path) -> bytes:
    data = (samples / "camera-iphone-8mp-3264x2448.jpg").read_bytes()
    assert "exif-ifd3-GPSLatitude" in decode(data).get_fields()
    return data


@pytest.mark.parametrize(
    "pipeline", ["", "/resize/300x", "/format/png", "/format/webp", "/format/avif", "/format/gif"]
)
def test_no_response_of_an_upload_carries_exif(
    client: FlaskClient, gps_photo: bytes, pipeline: str
) -> None:
    digest = client.post("/upload", data=gps_photo, content_type="image/jpeg").get_json()["hash"]
    response = client.get(
        f"/image/{digest}{pipeline}?size=medium" if pipeline else f"/image/{digest}"
    )
    assert response.status_code == 200
    assert _exif_fields(response.data) == []
    assert b"Apple" not in response.data  # the camera make lives only in EXIF


def test_an_avif_original_with_exif_is_re_encoded_without_it(client: FlaskClient) -> None:
    image = pyvips.Image.black(64, 48).new_from_image([200, 40, 40]).cast("uchar")
    image = image.copy(interpretation="srgb")
    image.set_type(pyvips.GValue.gint_type, "exif-ifd0-Orientation", 1)
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Artist", "Jane Owner")
    avif = bytes(image.heifsave_buffer(compression="av1", keep="exif"))
    assert b"Jane Owner" in avif
    digest = client.post("/upload", data=avif, content_type="image/avif").get_json()["hash"]
    served = client.get(f"/image/{digest}")
    assert served.status_code == 200
    assert served.mimetype == "image/avif"
    assert b"Jane Owner" not in served.data


def test_an_external_original_carries_no_exif(
    tmp_path: Path, origin: Origin, gps_photo: bytes
) -> None:
    origin.routes["/gps.jpg"] = (200, "image/jpeg", gps_photo)
    settings = Settings(data_dir=tmp_path, external_allow_hosts=(f"127.0.0.1:{origin.port}",))
    client = create_app(settings).test_client()
    response = client.get(f"/external?url={quote(origin.url('/gps.jpg'), safe='')}")
    assert response.status_code == 200
    assert _exif_fields(response.data) == []


PRIVATE_KEY = "alice-key-0123456789"


def test_every_response_of_a_private_camera_photo_is_clean(
    tmp_path: Path, gps_photo: bytes
) -> None:
    """Original, variants in every format, a signed variant and /metadata: no EXIF block, no
    GPS, no serials, whatever path the bytes take out, for the owner as for a signed link."""
    settings = Settings(data_dir=tmp_path, api_keys=(f"alice:{PRIVATE_KEY}",))
    client = create_app(settings).test_client()
    owner = {"Authorization": f"Bearer {PRIVATE_KEY}"}
    # A raw body: werkzeug's test client leaks the temp file of a large multipart part.
    uploaded = client.post(
        "/upload?public=false", data=gps_photo, content_type="image/jpeg", headers=owner
    )
    assert uploaded.status_code == 201
    digest = uploaded.get_json()["hash"]
    link = client.post(
        f"/image/{digest}/signed-url", json={"operations": "resize/200x/format/webp"}, headers=owner
    ).get_json()["url"]
    urls = [f"/image/{digest}"] + [
        f"/image/{digest}/resize/300x/format/{fmt}"
        for fmt in ("jpeg", "png", "webp", "avif", "gif")
    ]
    bodies = [client.get(url, headers=owner) for url in urls]
    signed = urlsplit(link)
    bodies.append(client.get(f"{signed.path}?{signed.query}"))
    for response in bodies:
        assert response.status_code == 200, response.request.path
        assert response.headers["Cache-Control"] == "private, no-cache"
        assert b"Exif\x00\x00" not in response.data
        assert b"Apple" not in response.data
        assert b"iPhone" not in response.data
        assert _exif_fields(response.data) == []
    metadata = client.get(f"/image/{digest}/metadata", headers=owner)
    assert metadata.status_code == 200
    text = metadata.get_data(as_text=True).lower()
    assert metadata.get_json()["exif"]["make"] == "Apple"  # the safe subset is there
    for secret in ("gps", "serial", "owner", "artist", "latitude", "longitude", "thumbnail"):
        assert secret not in text
