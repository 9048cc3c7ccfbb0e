"""Client hints over HTTP: Accept-CH, the bucketed ops, Vary exactly, Save-Data, `/external`."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from images_server.app import create_app
from images_server.settings import Settings
from tests.images import decode, quadrant_bytes
from tests.origin import Origin

HINT_HEADERS = {
    "Accept-CH": "Sec-CH-DPR, Sec-CH-Width, Sec-CH-Viewport-Width",
    "Permissions-Policy": "ch-dpr=(self), ch-width=(self), ch-viewport-width=(self)",
}
WIDTH_VARY = "Sec-CH-Width, Sec-CH-Viewport-Width, Save-Data"


def _client(tmp_path: Path, **values: Any) -> FlaskClient:
    return create_app(Settings(data_dir=tmp_path / "data", engine="vips", **values)).test_client()


@pytest.fixture
def hinting(tmp_path: Path) -> FlaskClient:
    return _client(tmp_path, client_hints=True)


def _upload(client: FlaskClient, width: int = 2000, height: int = 500) -> str:
    data = quadrant_bytes(width, height, "jpeg")
    response = client.post("/upload", data={"file": (io.BytesIO(data), "q.jpg")})
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["hash"])


@pytest.mark.parametrize(
    ("path", "segment"),
    [("dpr/auto/resize/100x", "dpr/auto"), ("resize/auto", "resize/auto"),
     ("preset/hero-auto", "resize/auto")],
)  # fmt: skip
def test_off_the_hint_ops_are_400_saying_how_to_turn_them_on(
    tmp_path: Path, path: str, segment: str
) -> None:
    client = _client(tmp_path, presets={"hero-auto": "resize/auto"})
    response = client.get(f"/image/{_upload(client)}/{path}", headers={"Sec-CH-Width": "700"})
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "invalid_pipeline"
    assert body["message"].startswith(f"'{segment}': ")
    assert "IMAGES_CLIENT_HINTS=true" in body["message"]


def test_off_no_hint_headers_are_sent(tmp_path: Path) -> None:
    client = _client(tmp_path)
    response = client.get(f"/image/{_upload(client)}/resize/60x", headers={"Sec-CH-DPR": "2"})
    assert response.status_code == 200
    assert "Accept-CH" not in response.headers
    assert "Permissions-Policy" not in response.headers
    assert "Vary" not in response.headers


def test_on_every_image_response_asks_for_hints(hinting: FlaskClient) -> None:
    digest = _upload(hinting)
    for path in ("", "/resize/60x", "/resize/60x/format/auto"):
        response = hinting.get(f"/image/{digest}{path}", headers={"Save-Data": "on"})
        assert response.status_code == 200
        assert {name: response.headers[name] for name in HINT_HEADERS} == HINT_HEADERS
    plain = hinting.get(f"/image/{digest}/resize/60x", headers={"Save-Data": "on"})
    assert "Vary" not in plain.headers  # no hint op: Save-Data did not apply
    assert hinting.get(f"/image/{digest}/resize/60x/format/auto").headers["Vary"] == "Accept"
    etag = plain.headers["ETag"]
    cached = hinting.get(f"/image/{digest}/resize/60x", headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.headers["Accept-CH"] == HINT_HEADERS["Accept-CH"]


def test_resize_auto_is_the_bucketed_width(hinting: FlaskClient) -> None:
    digest = _upload(hinting)
    first = hinting.get(f"/image/{digest}/resize/auto", headers={"Sec-CH-Width": "700"})
    assert first.status_code == 200
    assert decode(first.data).width == 800
    assert first.headers["Vary"] == WIDTH_VARY
    same = hinting.get(f"/image/{digest}/resize/auto", headers={"Sec-CH-Width": "750"})
    explicit = hinting.get(f"/image/{digest}/resize/800x%3E")
    assert first.headers["ETag"] == same.headers["ETag"] == explicit.headers["ETag"]
    assert same.data == first.data
    enlarging = hinting.get(f"/image/{digest}/resize/800x")  # another op: another variant
    assert enlarging.headers["ETag"] != first.headers["ETag"]
    wider = hinting.get(f"/image/{digest}/resize/auto", headers={"Sec-CH-Width": "1300"})
    assert decode(wider.data).width == 1600
    assert wider.headers["ETag"] != first.headers["ETag"]


def test_resize_auto_never_enlarges(hinting: FlaskClient) -> None:
    digest = _upload(hinting, 600, 300)
    response = hinting.get(f"/image/{digest}/resize/auto", headers={"Sec-CH-Width": "2000"})
    assert (decode(response.data).width, decode(response.data).height) == (600, 300)


def test_resize_auto_from_the_viewport_and_the_fallback(hinting: FlaskClient) -> None:
    digest = _upload(hinting)
    url = f"/image/{digest}/resize/auto"
    viewport = hinting.get(url, headers={"Sec-CH-Viewport-Width": "390", "Sec-CH-DPR": "2.625"})
    assert decode(viewport.data).width == 1600  # 390 -> 480 CSS px, x3
    assert viewport.headers["Vary"] == "Sec-CH-DPR, DPR, " + WIDTH_VARY
    fallback = hinting.get(url)
    assert decode(fallback.data).width == 1280
    assert fallback.headers["Vary"] == WIDTH_VARY


def test_dpr_auto_and_the_legacy_dpr_header(hinting: FlaskClient) -> None:
    digest = _upload(hinting)
    url = f"/image/{digest}/dpr/auto/resize/100x"
    for headers, width in (
        ({"Sec-CH-DPR": "2"}, 200),
        ({"DPR": "1.2"}, 150),
        ({"Sec-CH-DPR": "3", "DPR": "1"}, 300),
        ({}, 100),
        ({"Sec-CH-DPR": "nonsense"}, 100),
    ):
        response = hinting.get(url, headers=headers)
        assert decode(response.data).width == width, headers
        assert response.headers["Vary"] == "Sec-CH-DPR, DPR, Save-Data"


def test_vary_with_format_auto_and_a_fixed_quality(hinting: FlaskClient) -> None:
    digest = _upload(hinting)
    response = hinting.get(
        f"/image/{digest}/resize/auto/format/auto/quality/50",
        headers={"Accept": "image/webp", "Sec-CH-Width": "300"},
    )
    assert response.headers["Content-Type"] == "image/webp"
    assert response.headers["Vary"] == "Accept, Sec-CH-Width, Sec-CH-Viewport-Width"


def test_save_data_lowers_the_default_quality(hinting: FlaskClient) -> None:
    digest = _upload(hinting)
    url = f"/image/{digest}/resize/auto"
    headers = {"Sec-CH-Width": "700"}
    normal = hinting.get(url, headers=headers)
    saving = hinting.get(url, headers=headers | {"Save-Data": "on"})
    assert saving.headers["Vary"] == normal.headers["Vary"] == WIDTH_VARY
    assert saving.headers["ETag"] != normal.headers["ETag"]
    assert len(saving.data) < len(normal.data)
    at_70 = hinting.get(f"/image/{digest}/resize/800x%3E/quality/70")  # JPEG's 85 - 15
    assert saving.data == at_70.data
    fixed = f"{url}/quality/85"
    kept = hinting.get(fixed, headers=headers | {"Save-Data": "on"})
    assert kept.data == hinting.get(fixed, headers=headers).data
    assert kept.headers["Vary"] == "Sec-CH-Width, Sec-CH-Viewport-Width"


def test_external_uses_hints_too(tmp_path: Path, origin: Origin) -> None:
    client = _client(
        tmp_path, client_hints=True, external_allow_hosts=(f"127.0.0.1:{origin.port}",)
    )
    response = client.get(
        "/external",
        query_string={"url": origin.url("/photo.png"), "operations": "resize/auto"},
        headers={"Sec-CH-Width": "200"},
    )
    assert response.status_code == 200, response.get_json()
    assert decode(response.data).width == 320
    assert response.headers["Vary"] == WIDTH_VARY
    assert response.headers["Accept-CH"] == HINT_HEADERS["Accept-CH"]
