"""SVG over HTTP: off by default (415 naming the setting); on, an upload is sniffed, sanitized
and drawn, served as PNG when the URL names no format, described by `/metadata`, and made
into a pack; an SVG stored while SVG was on does not render once it is off."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import cast

import pytest
from flask import Flask
from flask.testing import FlaskClient

from images_server.app import create_app
from images_server.jobs.packs import run_pack
from images_server.services import Services
from images_server.settings import Settings
from tests.images import decode
from tests.svgs import RICH, TWO_COLOURS


@pytest.fixture
def settings(tmp_path: Path, engine_name: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", engine=engine_name, svg_enabled=True, eager_presets=()
    )


def upload(client: FlaskClient, data: bytes) -> tuple[int, dict[str, object]]:
    response = client.post("/upload", data={"file": (io.BytesIO(data), "drawing.svg")})
    return response.status_code, response.get_json()


def test_upload_and_serve(client: FlaskClient) -> None:
    status, body = upload(client, RICH)
    assert status == 201, body
    assert (body["format"], body["width"], body["height"]) == ("svg", 242, 181)
    digest = body["hash"]

    original = client.get(f"/image/{digest}")
    assert (original.status_code, original.mimetype) == (200, "image/png")
    image = decode(original.data)
    assert (image.width, image.height, image.bands) == (242, 181, 4)

    webp = client.get(f"/image/{digest}/resize/400x/format/webp")
    assert (webp.status_code, webp.mimetype) == (200, "image/webp")
    assert (decode(webp.data).width, decode(webp.data).height) == (400, 299)


def test_metadata(client: FlaskClient) -> None:
    _, body = upload(client, TWO_COLOURS)
    meta = client.get(f"/image/{body['hash']}/metadata").get_json()
    assert (meta["format"], meta["mime"]) == ("svg", "image/svg+xml")
    assert (meta["width"], meta["height"], meta["has_alpha"], meta["frames"]) == (100, 100, True, 1)
    assert meta["color_space"] == "srgb"
    assert meta["dominant_color"] in ("#ff0000", "#0000ff")


def test_a_pack_of_an_svg(app: Flask) -> None:
    client = app.test_client()
    analyze = client.post("/packs/analyze", data={"file": (io.BytesIO(RICH), "Logo.svg")})
    assert analyze.status_code == 200, analyze.get_json()
    form = {"file": (io.BytesIO(RICH), "Logo.svg"), "widths": "120,240", "formats": "webp,png"}
    response = client.post("/packs", data=form)
    assert response.status_code == 202, response.get_json()
    pack_id = response.get_json()["id"]
    assert run_pack(cast(Services, app.extensions["images"]), pack_id)
    state = client.get(f"/packs/{pack_id}").get_json()
    assert state["status"] == "done", state
    names = [entry["file"] for entry in state["manifest"]["files"]]
    assert names == [f"logo-{w}.{e}" for w in (120, 240) for e in ("webp", "png")]
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/packs/{pack_id}/download").data))
    assert set(names) <= set(archive.namelist())


def test_off_by_default_names_the_setting(tmp_path: Path) -> None:
    client = create_app(Settings(data_dir=tmp_path / "data")).test_client()
    status, body = upload(client, TWO_COLOURS)
    assert (status, body["code"]) == (415, "unsupported_format")
    assert "IMAGES_SVG_ENABLED" in str(body["message"])


def test_stored_while_on_does_not_render_once_off(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    on = create_app(Settings(data_dir=data_dir, svg_enabled=True)).test_client()
    _, body = upload(on, TWO_COLOURS)
    digest = body["hash"]
    assert on.get(f"/image/{digest}/resize/50x").status_code == 200

    off = create_app(Settings(data_dir=data_dir, cache="none")).test_client()
    for path in ("", "/resize/60x", "/format/webp"):
        response = off.get(f"/image/{digest}{path}")
        assert response.status_code == 415, path
        assert "IMAGES_SVG_ENABLED" in response.get_json()["message"]
