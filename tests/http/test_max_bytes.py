"""`maxbytes/N` over HTTP on both engines: a body that fits, the `400` naming the budget, the
`400`s of what cannot be searched, and a cached variant like any other."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import pyvips
from flask.testing import FlaskClient
from prometheus_client import REGISTRY

from images_server.app import create_app
from images_server.settings import Settings
from tests.hostile.conftest import assert_error
from tests.images import quadrant_bytes


def _upload(client: FlaskClient, data: bytes, name: str) -> str:
    response = client.post("/upload", data={"file": (io.BytesIO(data), name)})
    assert response.status_code == 201
    return str(response.get_json()["hash"])


@pytest.fixture
def photo(client: FlaskClient, samples: Path) -> str:
    return _upload(client, (samples / "photo-1mp-1200x900.jpg").read_bytes(), "p.jpg")


def _searches() -> float:
    labels = {"format": "webp", "mode": "maxbytes"}
    return REGISTRY.get_sample_value("images_quality_search_encodes_count", labels) or 0.0


def test_a_budget_that_fits_is_200_and_cached(client: FlaskClient, photo: str) -> None:
    url = f"/image/{photo}/resize/400x/format/auto/maxbytes/9000"
    before = _searches()
    first = client.get(url, headers={"Accept": "image/webp"})
    assert first.status_code == 200
    assert first.mimetype == "image/webp"
    assert len(first.data) <= 9000
    assert _searches() == before + 1
    again = client.get(url, headers={"Accept": "image/webp,image/png"})
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.data == first.data
    assert _searches() == before + 1  # a hit: no search, no encoder run
    fixed = client.get(f"/image/{photo}/maxbytes/9000/resize/400x/format/webp")
    assert fixed.headers["ETag"] == first.headers["ETag"]
    unbounded = client.get(f"/image/{photo}/resize/400x/format/webp")
    assert len(unbounded.data) > 9000  # the budget did lower the quality


def test_a_budget_too_small_is_a_400_naming_it(client: FlaskClient, photo: str) -> None:
    response = client.get(f"/image/{photo}/resize/400x/format/webp/maxbytes/500")
    assert_error(response, 400, "over_byte_budget")
    message = response.get_json()["message"]
    assert message.startswith("'maxbytes/500': the output does not fit the budget of 500 bytes")
    assert "(at 400x300); ask for a smaller size" in message


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("maxbytes/9000/quality/auto", "quality/auto and maxbytes both choose the quality"),
        ("format/gif/maxbytes/9000", "gif is written lossless"),
        ("maxbytes/99", "maxbytes must be a whole number of bytes from 100 to 20000000"),
    ],
)
def test_what_cannot_be_searched_is_a_400(
    client: FlaskClient, photo: str, path: str, says: str
) -> None:
    response = client.get(f"/image/{photo}/resize/400x/{path}")
    assert_error(response, 400, "invalid_pipeline")
    assert says in response.get_json()["message"]


def test_a_png_source_kept_as_png_is_a_400(client: FlaskClient) -> None:
    digest = _upload(client, quadrant_bytes(80, 60, "png"), "q.png")
    response = client.get(f"/image/{digest}/maxbytes/5000")
    assert_error(response, 400, "invalid_pipeline")
    assert response.get_json()["message"].startswith("'maxbytes/5000': png is written lossless")
    assert client.get(f"/image/{digest}/format/webp/maxbytes/5000").status_code == 200


def test_the_operator_may_allow_smaller_dimensions(
    tmp_path: Path, engine_name: str, samples: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", engine=engine_name, maxbytes_resize=True)
    client = create_app(settings).test_client()
    photo = _upload(client, (samples / "photo-1mp-1200x900.jpg").read_bytes(), "p.jpg")
    response = client.get(f"/image/{photo}/resize/400x/format/jpeg/maxbytes/1000")
    assert response.status_code == 200
    assert len(response.data) <= 1000
    shrunk = pyvips.Image.new_from_buffer(response.data, "")
    assert (shrunk.width, shrunk.height) == (320, 240)  # 0.8 a side: quality 1 fits there
