"""`IMAGES_WATERMARK`: one stored image laid over every output, which no URL can remove.

It is appended to every plan after the URL's ops (so crops, turns and formats come first),
is part of every cache key, spares outputs narrower than `IMAGES_WATERMARK_MIN_WIDTH`, and a
watermark that is not stored is the server's fault: `503` in JSON, never an unmarked image.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import pyvips
from flask.testing import FlaskClient

from images_server.app import create_app
from images_server.settings import Settings
from tests.images import decode, encode, near, pixel


def _square(size: int, rgb: tuple[int, int, int]) -> bytes:
    image = pyvips.Image.black(size, size).new_from_image(list(rgb)).cast("uchar")
    return encode(image.copy(interpretation="srgb"), "png")


WHITE, RED = _square(200, (255, 255, 255)), _square(20, (255, 0, 0))
RED_HASH = hashlib.sha256(RED).hexdigest()


def _client(tmp_path: Path, **settings: object) -> FlaskClient:
    app = create_app(Settings(data_dir=tmp_path / "data", **settings))  # type: ignore[arg-type]
    return app.test_client()


def _upload(client: FlaskClient, data: bytes) -> str:
    return str(client.post("/upload", data=data, content_type="image/png").get_json()["hash"])


@pytest.fixture
def marked(tmp_path: Path) -> FlaskClient:
    client = _client(tmp_path, watermark=f"{RED_HASH},se,0", watermark_min_width=100)
    assert _upload(client, RED) == RED_HASH
    return client


@pytest.mark.parametrize(
    "path", ["", "/format/png", "/crop/nw150x150/format/png", "/rotate/180/format/png"]
)
def test_every_output_carries_it_in_its_corner(marked: FlaskClient, path: str) -> None:
    digest = _upload(marked, WHITE)
    body = marked.get(f"/image/{digest}{path}").data
    image = decode(body)
    corner = (image.width - 10, image.height - 10)
    assert near(pixel(image, *corner), (255, 0, 0), 3), path  # after the URL's ops
    assert near(pixel(image, 5, 5), (255, 255, 255), 3)


def test_outputs_narrower_than_the_threshold_are_left_alone(marked: FlaskClient) -> None:
    digest = _upload(marked, WHITE)
    small = decode(marked.get(f"/image/{digest}/resize/80x/format/png").data)
    assert near(pixel(small, 75, 75), (255, 255, 255), 3)


def test_the_watermark_is_part_of_the_cache_key(tmp_path: Path) -> None:
    plain = _client(tmp_path)
    digest = _upload(plain, WHITE)
    _upload(plain, RED)
    unmarked = plain.get(f"/image/{digest}/format/png")
    marked = _client(tmp_path, watermark=RED_HASH)  # the same data dir and result cache
    shown = marked.get(f"/image/{digest}/format/png")
    assert shown.headers["ETag"] != unmarked.headers["ETag"]
    assert near(pixel(shown.data, 195, 195), (255, 0, 0), 3)


def test_a_watermark_that_is_not_stored_is_a_503(tmp_path: Path) -> None:
    client = _client(tmp_path, watermark="ef" * 32)
    digest = _upload(client, WHITE)
    response = client.get(f"/image/{digest}/resize/50x")
    assert response.status_code == 503
    assert response.get_json()["code"] == "service_unavailable"
    assert "IMAGES_WATERMARK" in response.get_json()["message"]


def test_a_bad_watermark_setting_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="unknown overlay option"):
        Settings(watermark=f"{RED_HASH},sideways")
