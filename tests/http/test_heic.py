"""HEIC over HTTP on both engines: real phone files upload, are served in a web format with
no EXIF (their GPS never leaves), transform, describe themselves in /metadata and become a
pack; hostile ones are refused with the right status before any decoder runs."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
import pyvips
from flask.testing import FlaskClient

from images_server.jobs.packs import run_pack
from images_server.services import Services
from tests.formats.test_heic import grid, heif, iinf, infe
from tests.formats.test_sniff import ispe
from tests.images import decode

IPHONE = "iphone13pro-grid-gps-4032x3024.heic"  # 12 MP, EXIF with GPS
ROTATED = "iphone8plus-irot270-3024x4032.heic"
ALPHA = "alpha-10bit-clap-29x100.heif"


def load(samples: Path, name: str) -> bytes:
    return (samples / "heic" / name).read_bytes()


def upload(client: FlaskClient, data: bytes) -> tuple[int, dict[str, object]]:
    # a raw body: werkzeug spools a large multipart file to a temp file /upload leaves open
    response = client.post("/upload", data=data, content_type="image/heic")
    return response.status_code, response.get_json()


def uploaded(client: FlaskClient, data: bytes) -> str:
    status, body = upload(client, data)
    assert status == 201, body
    return str(body["hash"])


def no_exif(body: bytes) -> None:
    assert [f for f in decode(body).get_fields() if f.startswith("exif")] == []
    assert b"iPhone" not in body  # the model lives only in EXIF
    assert b"GPS" not in body


def test_an_iphone_photo_uploads_and_is_served_as_jpeg_without_gps(
    client: FlaskClient, samples: Path
) -> None:
    status, body = upload(client, load(samples, IPHONE))
    assert status == 201, body
    assert (body["format"], body["width"], body["height"]) == ("heic", 4032, 3024)
    served = client.get(f"/image/{body['hash']}")
    assert served.status_code == 200
    assert served.mimetype == "image/jpeg"
    image = decode(served.data)
    assert (image.width, image.height) == (4032, 3024)
    no_exif(served.data)


@pytest.mark.parametrize(
    ("path", "mime", "size"),
    [
        ("/resize/200x/format/webp", "image/webp", (200, 267)),
        ("/resize/200x", "image/jpeg", (200, 267)),
        ("/resize/100x100^/crop/100x100/format/avif", "image/avif", (100, 100)),
        ("/rotate/90/resize/120x/format/png", "image/png", (120, 90)),
        ("/format/gif/resize/64x", "image/gif", (64, 85)),
    ],
)
def test_pipelines_work_on_a_rotated_iphone_photo(
    client: FlaskClient, samples: Path, path: str, mime: str, size: tuple[int, int]
) -> None:
    digest = uploaded(client, load(samples, ROTATED))
    response = client.get(f"/image/{digest}{path}")
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == mime
    image = decode(response.data)
    assert (image.width, image.height) == size
    no_exif(response.data)


def test_alpha_is_served_as_png(client: FlaskClient, samples: Path) -> None:
    digest = uploaded(client, load(samples, ALPHA))
    served = client.get(f"/image/{digest}")
    assert served.mimetype == "image/png"
    image = decode(served.data)
    assert (image.width, image.height, image.hasalpha()) == (29, 100, True)


def test_metadata_gives_safe_exif_and_no_gps(client: FlaskClient, samples: Path) -> None:
    digest = uploaded(client, load(samples, IPHONE))
    body = client.get(f"/image/{digest}/metadata").get_json()
    assert (body["width"], body["height"], body["format"]) == (4032, 3024, "heic")
    assert (body["mime"], body["frames"], body["has_alpha"]) == ("image/heic", 1, False)
    assert body["exif"]["make"] == "Apple"
    assert body["exif"]["model"] == "iPhone 13 Pro"
    assert body["exif"]["taken_at"] == "2023-02-21T14:33:08"
    assert body["exif"]["iso"] == 125
    text = json.dumps(body)
    assert "GPS" not in text
    assert "44, 51" not in text  # the latitude


def test_an_iphone_heic_becomes_a_pack(
    client: FlaskClient, services: Services, samples: Path
) -> None:
    data = load(samples, ROTATED)
    created = client.post("/packs?widths=160,320&formats=webp,jpeg", data=data,
                          content_type="image/heic")  # fmt: skip
    assert created.status_code == 202, created.get_json()
    pack_id = created.get_json()["id"]
    assert run_pack(services, pack_id)
    state = client.get(f"/packs/{pack_id}").get_json()
    assert state["status"] == "done"
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/packs/{pack_id}/download").data))
    webps = [name for name in archive.namelist() if name.endswith("-320.webp")]
    assert len(webps) == 1
    image = pyvips.Image.new_from_buffer(archive.read(webps[0]), "")
    assert (image.width, image.height) == (320, 427)  # upright: irot applied
    no_exif(archive.read(webps[0]))


@pytest.mark.parametrize(
    ("make", "status", "code"),
    [
        (lambda s: heif([ispe(100_000, 100_000)], {1: [1]}, iinf(infe(1, b"hvc1"))), 413,
         "too_many_pixels"),
        (lambda s: grid((8192, 8192), 16, (100, 100)), 413, "too_many_pixels"),
        (lambda s: load(s, "xiaomi-grid-2592x1944.heic")[:400_000], 422, "undecodable_image"),
        (lambda s: load(s, "xiaomi-grid-2592x1944.heic")[:300], 422, "undecodable_image"),
        (lambda s: heif([ispe(30, 20)], {1: [1]}, iinf(infe(1, b"hvc1"))), 422,
         "undecodable_image"),
    ],
    ids=["ispe-bomb", "grid-tile-bomb", "truncated", "cut-in-meta", "header-only"],
)  # fmt: skip
def test_hostile_heic_is_refused(
    client: FlaskClient, samples: Path, make: object, status: int, code: str
) -> None:
    assert callable(make)
    answer, body = upload(client, make(samples))
    assert (answer, body["code"]) == (status, code), body
