"""`GET /external`: fetch safely, cache the original, apply operations, reset on demand."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
import pyvips
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from images_server.app import create_app
from images_server.settings import Settings
from tests.images import QUADRANTS, decode, near, pixel
from tests.origin import Origin


@pytest.fixture
def external(tmp_path: Path, origin: Origin, engine_name: str) -> FlaskClient:
    settings = Settings(
        data_dir=tmp_path, engine=engine_name, external_allow_hosts=(f"127.0.0.1:{origin.port}",)
    )
    return create_app(settings).test_client()


def get(client: FlaskClient, url: str, operations: str = "", reset: bool = False) -> TestResponse:
    query = f"url={quote(url, safe='')}&operations={quote(operations, safe='/')}"
    return client.get(f"/external?{query}" + ("&reset_cache=1" if reset else ""))


def test_fetches_applies_and_caches(external: FlaskClient, origin: Origin) -> None:
    url = origin.url("/photo.png")
    response = get(external, url, "resize/200x/crop/se50x50/format/webp")
    assert response.status_code == 200, response.data
    assert response.mimetype == "image/webp"
    image = decode(response.data)
    assert (image.width, image.height) == (50, 50)
    assert near(pixel(image, 25, 25), QUADRANTS["se"])
    assert get(external, url, "resize/100x").status_code == 200
    assert get(external, url).status_code == 200
    assert origin.hits["/photo.png"] == 1  # the original is cached


def test_reset_cache_downloads_again(external: FlaskClient, origin: Origin) -> None:
    url = origin.url("/photo.png")
    get(external, url, "resize/100x")
    origin.routes["/photo.png"] = (200, "image/png", _blue())
    stale = get(external, url, "resize/100x")
    assert near(pixel(stale.data, 5, 5), QUADRANTS["nw"])
    fresh = get(external, url, "resize/100x", reset=True)
    assert fresh.status_code == 200
    assert origin.hits["/photo.png"] == 2
    assert near(pixel(fresh.data, 5, 5), (0, 0, 255))


def _blue() -> bytes:
    blue = pyvips.Image.black(40, 30).new_from_image([0, 0, 255]).cast("uchar")
    return bytes(blue.copy(interpretation="srgb").write_to_buffer(".png"))


def test_loopback_is_refused_without_the_allowlist(tmp_path: Path, origin: Origin) -> None:
    client = create_app(Settings(data_dir=tmp_path)).test_client()
    response = get(client, origin.url("/photo.png"))
    assert response.status_code == 403
    assert response.get_json()["code"] == "forbidden_address"
    assert origin.hits["/photo.png"] == 0


@pytest.mark.parametrize(
    ("url", "status"),
    [("ftp://127.0.0.1/x.png", 400), ("file:///etc/passwd", 400), ("", 400)],
)
def test_bad_urls(external: FlaskClient, url: str, status: int) -> None:
    response = get(external, url)
    assert response.status_code == status
    assert response.get_json()["status"] == "error"


def test_upstream_failure_is_502(external: FlaskClient, origin: Origin) -> None:
    response = get(external, origin.url("/missing.png"))
    assert response.status_code == 502


def test_not_an_image_is_415(external: FlaskClient, origin: Origin) -> None:
    response = get(external, origin.url("/text.png"))
    assert response.status_code == 415


def test_bad_operations_are_400_before_any_fetch(external: FlaskClient, origin: Origin) -> None:
    response = get(external, origin.url("/photo.png"), "resize/huge")
    assert response.status_code == 400
    assert "'resize/huge'" in response.get_json()["message"]
    assert origin.hits["/photo.png"] == 0


def test_can_be_turned_off(tmp_path: Path, origin: Origin) -> None:
    settings = Settings(data_dir=tmp_path, external_enabled=False)
    response = get(create_app(settings).test_client(), origin.url("/photo.png"))
    assert response.status_code == 403
    assert response.get_json()["code"] == "external_disabled"
