"""TIFF uploads over HTTP: accepted, served as JPEG (PNG with alpha) since browsers show no
TIFF, transformed like any upload, described by `/metadata`, never leaking the metadata they
carry, and packed; the files that crashed decoders before are refused and the app stays up."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import pyvips
from flask import Flask
from flask.testing import FlaskClient

from images_server.app import create_app
from images_server.jobs.packs import run_pack
from images_server.settings import Settings
from tests.hostile.conftest import assert_error, assert_healthy
from tests.http.test_packs import _create, _services
from tests.images import decode, encode, quadrant_image

XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:exif="http://ns.adobe.com/exif/1.0/" '
    b'exif:GPSLatitude="48,51.4N" exif:GPSLongitude="2,21.1E"><dc:creator>Jane Owner'
    b"</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>"
)


def _upload(client: FlaskClient, data: bytes, name: str = "scan.tif") -> dict[str, object]:
    form = {"file": (io.BytesIO(data), name, "image/tiff")}
    response = client.post("/upload", data=form, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert isinstance(body, dict)
    return body


def test_a_tiff_is_served_as_jpeg_and_transformed(client: FlaskClient, samples: Path) -> None:
    data = (samples / "tiff" / "tiff_tiled_ycbcr_jpeg_2x2_sampling.tif").read_bytes()

    body = _upload(client, data)

    assert (body["format"], body["width"], body["height"]) == ("tiff", 480, 360)
    original = client.get(f"/image/{body['hash']}")
    assert (original.status_code, original.mimetype) == (200, "image/jpeg")
    assert decode(original.data).width == 480
    variant = client.get(f"/image/{body['hash']}/resize/200x/crop/n100x100/format/webp")
    assert (variant.status_code, variant.mimetype) == (200, "image/webp")
    assert (decode(variant.data).width, decode(variant.data).height) == (100, 100)
    tiff_out = client.get(f"/image/{body['hash']}/format/tiff")
    assert tiff_out.status_code == 400  # TIFF is an input, never an output


def test_a_tiff_with_alpha_is_served_as_png(client: FlaskClient, samples: Path) -> None:
    body = _upload(client, (samples / "tiff" / "tiff_16bit_RGBa.tiff").read_bytes())

    served = client.get(f"/image/{body['hash']}")

    assert served.mimetype == "image/png"
    assert decode(served.data).hasalpha()


def test_metadata_of_a_multipage_tiff(client: FlaskClient, samples: Path) -> None:
    body = _upload(client, (samples / "tiff" / "multipage.tiff").read_bytes())

    facts = client.get(f"/image/{body['hash']}/metadata").get_json()

    assert (facts["format"], facts["mime"], facts["frames"]) == ("tiff", "image/tiff", 3)
    assert (facts["width"], facts["height"]) == (10, 10)
    assert facts["placeholder"]
    assert facts["dominant_color"].startswith("#")


@pytest.mark.parametrize("pipeline", ["", "/resize/50x", "/format/png", "/format/avif"])
def test_no_response_carries_the_tiffs_xmp(client: FlaskClient, pipeline: str) -> None:
    image = quadrant_image(120, 90)
    image.set_type(pyvips.GValue.blob_type, "xmp-data", XMP)
    data = encode(image, "tiff")
    assert b"Jane Owner" in data

    body = _upload(client, data)
    served = client.get(f"/image/{body['hash']}{pipeline}")
    facts = client.get(f"/image/{body['hash']}/metadata")

    assert served.status_code == 200
    for text in (b"Jane Owner", b"GPSLatitude", b"48,51.4N"):
        assert text not in served.data
        assert text not in facts.data
    assert [f for f in decode(served.data).get_fields() if f.startswith(("xmp", "exif"))] == []


def test_a_tiff_becomes_a_pack(tmp_path: Path, samples: Path) -> None:
    app: Flask = create_app(Settings(data_dir=tmp_path / "data", eager_presets=()))
    client = app.test_client()
    pack_id = _create(
        client, (samples / "tiff" / "hopper.tif").read_bytes(), widths="64", formats="webp,jpeg"
    )

    assert run_pack(_services(app), pack_id)

    state = client.get(f"/packs/{pack_id}").get_json()
    assert state["status"] == "done"
    assert state["analysis"]["format"] == "tiff"
    assert sorted(entry["format"] for entry in state["manifest"]["files"]) == ["jpeg", "webp"]


CRASHERS = sorted(
    (Path(__file__).resolve().parents[2] / "samples" / "tiff" / "hostile").glob("*.tif")
)


@pytest.mark.parametrize("path", CRASHERS, ids=lambda path: path.name)
def test_files_that_crashed_decoders_are_refused(client: FlaskClient, path: Path) -> None:
    form = {"file": (io.BytesIO(path.read_bytes()), path.name, "image/tiff")}
    response = client.post("/upload", data=form, content_type="multipart/form-data")

    assert_error(response, 422, "undecodable_image")
    assert_healthy(client)
