"""Quality over HTTP: per-format quality with `format/auto` (docs/api.md §3), on both engines."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from prometheus_client import REGISTRY

PER_FORMAT = "quality/jpeg:90,webp:30,avif:20"


@pytest.fixture
def photo(client: FlaskClient, samples: Path) -> str:
    data = (samples / "photo-1mp-1200x900.jpg").read_bytes()
    response = client.post("/upload", data={"file": (io.BytesIO(data), "p.jpg")})
    return str(response.get_json()["hash"])


@pytest.mark.parametrize(
    ("accept", "mime", "same_as"),
    [
        ("image/avif,image/webp", "image/avif", "format/avif/quality/20"),
        ("image/webp", "image/webp", "format/webp/quality/30"),
        ("*/*", "image/jpeg", "quality/90"),
    ],
)
def test_format_auto_takes_the_chosen_formats_quality(
    client: FlaskClient, photo: str, accept: str, mime: str, same_as: str
) -> None:
    auto = client.get(f"/image/{photo}/resize/300x/format/auto/{PER_FORMAT}",
                      headers={"Accept": accept})  # fmt: skip
    assert auto.status_code == 200
    assert auto.mimetype == mime
    assert auto.headers["Vary"] == "Accept"
    fixed = client.get(f"/image/{photo}/resize/300x/{same_as}")
    assert auto.data == fixed.data
    default = client.get(f"/image/{photo}/resize/300x/format/{mime.split('/')[1]}")
    assert (len(auto.data) < len(default.data)) == (mime != "image/jpeg")


def test_a_fixed_format_keys_like_its_entry(client: FlaskClient, photo: str) -> None:
    per_format = client.get(f"/image/{photo}/resize/300x/format/webp/{PER_FORMAT}")
    plain = client.get(f"/image/{photo}/resize/300x/format/webp/quality/30")
    assert per_format.headers["ETag"] == plain.headers["ETag"]
    missing = client.get(f"/image/{photo}/resize/300x/format/png/{PER_FORMAT}")
    assert (
        missing.headers["ETag"]
        == client.get(f"/image/{photo}/resize/300x/format/png").headers["ETag"]
    )


def test_a_bad_entry_is_a_400_naming_it(client: FlaskClient, photo: str) -> None:
    response = client.get(f"/image/{photo}/resize/300x/quality/jpeg:80,png:9")
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "invalid_pipeline"
    assert body["message"].startswith("'quality/jpeg:80,png:9': 'png:9': ")


def _searches() -> float:
    return (
        REGISTRY.get_sample_value(
            "images_quality_search_encodes_count", {"format": "webp", "mode": "auto"}
        )
        or 0.0
    )


def test_quality_auto_is_cached_like_any_variant(client: FlaskClient, photo: str) -> None:
    url = f"/image/{photo}/resize/200x/format/auto/quality/auto"
    before = _searches()
    first = client.get(url, headers={"Accept": "image/webp"})
    assert first.status_code == 200
    assert first.mimetype == "image/webp"
    assert _searches() == before + 1
    again = client.get(url, headers={"Accept": "image/webp,image/png"})
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.data == first.data
    assert _searches() == before + 1  # a hit: no search, no encoder run
    fixed = client.get(f"/image/{photo}/resize/200x/format/webp/quality/auto")
    assert fixed.headers["ETag"] == first.headers["ETag"]
