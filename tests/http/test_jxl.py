"""JPEG XL over HTTP through the real app: uploads, `format/jxl` on both engines, the
lossless recompression of a JPEG, `format/auto` with `IMAGES_AUTO_FORMATS`, hostile files."""

from __future__ import annotations

from pathlib import Path

import imagecodecs
import numpy as np
import pytest
import pyvips
from flask.testing import FlaskClient

from images_server.app import create_app
from images_server.engines import jxl_encode
from images_server.engines.quality import AUTO, decoded, ssim
from images_server.formats.sniff import sniff
from images_server.formats.strip import strip_metadata
from images_server.settings import Settings
from tests.formats.test_jxl import codestream

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def upload(client: FlaskClient, data: bytes) -> tuple[int, dict[str, object]]:
    # A raw body: werkzeug's test client spools a large multipart body to a temporary file
    # that it never closes.
    response = client.post("/upload", data=data, content_type="application/octet-stream")
    return response.status_code, response.get_json()


def test_sample_uploads_and_renders(client: FlaskClient) -> None:
    data = (SAMPLES / "jxl" / "camera-canon-3mp-orient6-recompressed.jxl").read_bytes()
    status, body = upload(client, data)
    assert status == 201, body
    assert (body["width"], body["height"], body["format"]) == (1536, 2048, "jxl")
    response = client.get(f"/image/{body['hash']}/resize/300")
    assert response.status_code == 200
    assert response.content_type == "image/jpeg"  # served in a web format
    info = sniff(response.data)
    assert (info.width, info.height) == (300, 400)
    metadata = client.get(f"/image/{body['hash']}/metadata")
    assert metadata.status_code == 200


def test_format_jxl_writes_the_engines_pixels(client: FlaskClient) -> None:
    """Each engine's `format/jxl` is its own `format/png` (the pixels it resized) through the
    shared encoder: to one level at quality 100 (lossless; ImageMagick's PNG writer truncates
    its 16-bit samples to 8 where its raw export, which the encoder gets, rounds them), within
    the loss of the default 75 otherwise (XYB, whose blue is the coarsest). The engines'
    resized pixels are compared with each other by the engine contract suite."""
    _, body = upload(client, (SAMPLES / "photo-1mp-1200x900.jpg").read_bytes())
    png = client.get(f"/image/{body['hash']}/resize/400/format/png")
    reference = imagecodecs.png_decode(png.data).astype(int)
    assert reference.shape == (300, 400, 3)
    for quality, mean_error, max_error in (("", 5.0, 255), ("/quality/100", 0.5, 1)):
        response = client.get(f"/image/{body['hash']}/resize/400{quality}/format/jxl")
        assert response.status_code == 200
        assert response.content_type == "image/jxl"
        assert sniff(response.data).width == 400
        decoded = imagecodecs.jpegxl_decode(response.data).astype(int)
        assert decoded.shape == reference.shape
        assert np.abs(decoded - reference).mean() <= mean_error
        assert np.abs(decoded - reference).max() <= max_error


def test_jpeg_is_recompressed_losslessly_without_its_exif(client: FlaskClient) -> None:
    jpeg = (SAMPLES / "camera-iphone-8mp-3264x2448.jpg").read_bytes()
    assert b"Exif" in jpeg
    _, body = upload(client, jpeg)
    response = client.get(f"/image/{body['hash']}/format/jxl")
    assert response.status_code == 200
    assert len(response.data) < 0.9 * len(jpeg)
    rebuilt = bytes(imagecodecs.jpegxl_decode_jpeg(response.data, numthreads=1))
    assert rebuilt == strip_metadata(jpeg, sniff(jpeg))  # bit for bit, metadata gone
    assert b"xml " not in response.data
    assert b"GPS" not in rebuilt
    assert b"Apple" not in rebuilt


def test_header_bomb_is_refused_before_decoding(client: FlaskClient) -> None:
    status, body = upload(client, codestream(100_000, 100_000))
    assert status == 413, body


def test_truncated_file_is_undecodable(client: FlaskClient) -> None:
    data = (SAMPLES / "jxl" / "photo-1mp-1200x900-q75.jxl").read_bytes()
    status, body = upload(client, data[: len(data) // 2])
    assert status == 422, body


@pytest.mark.parametrize(
    ("auto_formats", "accept", "expected"),
    [
        ("jxl,avif,webp", "image/jxl,image/avif,image/webp,*/*", "image/jxl"),
        ("avif,webp", "image/jxl,image/avif,image/webp,*/*", "image/avif"),
        ("avif,webp", "image/jxl,*/*", "image/jpeg"),
        ("avif,jxl", "image/jxl,image/avif", "image/avif"),
    ],
)
def test_format_auto_offers_jxl_only_when_listed(
    tmp_path: Path, auto_formats: str, accept: str, expected: str
) -> None:
    settings = Settings(data_dir=tmp_path, engine="vips", auto_formats=auto_formats)
    with create_app(settings).test_client() as client:
        _, body = upload(client, (SAMPLES / "photo-1mp-1200x900.jpg").read_bytes())
        response = client.get(
            f"/image/{body['hash']}/resize/200/format/auto", headers={"Accept": accept}
        )
        assert response.status_code == 200
        assert response.content_type == expected
        assert "Accept" in response.headers["Vary"]


def test_quality_auto_searches_jxl_by_ssim(client: FlaskClient) -> None:
    """`quality/auto` on a JPEG XL output measures each candidate decoded by the shared
    decoder: the answer reaches the target against the engine's own pixels, in fewer
    bytes than quality 90 (the grid's top, which every photo passes)."""
    _, body = upload(client, (SAMPLES / "photo-1mp-1200x900.jpg").read_bytes())
    base = f"/image/{body['hash']}/resize/400"
    auto = client.get(f"{base}/quality/auto/format/jxl")
    assert auto.status_code == 200
    assert auto.content_type == "image/jxl"
    top = client.get(f"{base}/quality/90/format/jxl")
    assert len(auto.data) < len(top.data)
    reference = pyvips.Image.new_from_buffer(client.get(f"{base}/format/png").data, "")
    assert ssim(reference, decoded(auto.data)) >= AUTO["jxl"].target


def test_maxbytes_fits_a_jxl_output(client: FlaskClient) -> None:
    _, body = upload(client, (SAMPLES / "photo-1mp-1200x900.jpg").read_bytes())
    response = client.get(f"/image/{body['hash']}/resize/400/maxbytes/8000/format/jxl")
    assert response.status_code == 200
    assert response.content_type == "image/jxl"
    assert 4000 < len(response.data) <= 8000
    assert sniff(response.data).width == 400


def test_an_output_over_the_encoders_area_limit_is_refused(client: FlaskClient) -> None:
    """The encoder's memory grows with the area: past `MAX_PIXELS` (27 MP here) it is a 400,
    decided from the header and the plan, before any decode."""
    _, body = upload(client, (SAMPLES / "photo-1mp-1200x900.jpg").read_bytes())
    response = client.get(f"/image/{body['hash']}/resize/6000x4500!/format/jxl")
    assert response.status_code == 400
    assert response.get_json()["code"] == "output_too_large"
    assert jxl_encode.MAX_PIXELS < 6000 * 4500
