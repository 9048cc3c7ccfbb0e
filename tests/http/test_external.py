"""`GET /external`: fetch safely, cache the original, apply operations, reset on demand."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
import pyvips
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from images_server.app import create_app
from images_server.security.fetch import system_resolver
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
    assert response.get_json() == {
        "status": "error",
        "message": "refusing to fetch 127.0.0.1: it is not a public address"
        " (allow it with IMAGES_EXTERNAL_ALLOW_HOSTS)",
        "code": "forbidden_address",
    }
    assert origin.hits["/photo.png"] == 0


def test_an_allowed_address_also_allows_a_name_resolving_to_it(
    tmp_path: Path, origin: Origin
) -> None:
    # the entries a user writes for the origin's address: 127.0.0.1:<port> (and ::1 where
    # localhost resolves to it too), never the name localhost itself
    answers = system_resolver("localhost", origin.port)
    entries = tuple(
        f"[{ip}]:{origin.port}" if ":" in ip else f"{ip}:{origin.port}" for ip in answers
    )
    assert f"127.0.0.1:{origin.port}" in entries
    client = create_app(Settings(data_dir=tmp_path, external_allow_hosts=entries)).test_client()
    url = f"http://localhost:{origin.port}/photo.png"
    response = get(client, url, "resize/20x")
    assert response.status_code == 200, response.data
    assert decode(response.data).width == 20
    assert origin.hits["/photo.png"] == 1
    elsewhere = (f"127.0.0.1:{origin.port + 1}",)  # another port; its own, empty store
    other_port = Settings(data_dir=tmp_path / "other", external_allow_hosts=elsewhere)
    refused = get(create_app(other_port).test_client(), url)
    assert refused.status_code == 403
    assert refused.get_json()["message"].startswith("refusing to fetch localhost: it resolves to ")
    assert refused.get_json()["message"].endswith("(allow it with IMAGES_EXTERNAL_ALLOW_HOSTS)")
    assert origin.hits["/photo.png"] == 1


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
