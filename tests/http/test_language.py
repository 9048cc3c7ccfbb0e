"""The language over HTTP: `format/auto` negotiation, `?size=` and `?format=`, refusals."""

from __future__ import annotations

import io

import pytest
import pyvips
from flask.testing import FlaskClient
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from images_server.http.plans import negotiate
from tests.images import decode, quadrant_bytes

BROWSERS = {
    "chrome": "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
    "safari-old": "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5",
    "curl": "*/*",
}


def _accept(header: str) -> list[tuple[str, float]]:
    return list(parse_accept_header(header, MIMEAccept))


@pytest.mark.parametrize(
    ("header", "bucket"),
    [
        (BROWSERS["chrome"], "avif"),
        (BROWSERS["safari-old"], "webp"),
        (BROWSERS["curl"], None),
        ("", None),
        ("image/webp,image/avif", "avif"),  # a tie: AVIF wins
        ("image/avif;q=0.5,image/webp;q=0.8", "webp"),
        ("image/avif;q=0,image/webp", "webp"),
        ("image/avif;q=0,image/webp;q=0", None),
        ("image/*", None),
        ("IMAGE/AVIF", "avif"),
    ],
)
def test_negotiation_buckets(header: str, bucket: str | None) -> None:
    assert negotiate(_accept(header)) == bucket


@pytest.fixture
def digest(client: FlaskClient) -> str:
    data = quadrant_bytes(400, 300, "png")
    response = client.post("/upload", data={"file": (io.BytesIO(data), "q.png")})
    return str(response.get_json()["hash"])


@pytest.mark.parametrize(
    ("browser", "mime"),
    [("chrome", "image/avif"), ("safari-old", "image/webp"), ("curl", "image/png")],
)
def test_format_auto_follows_accept(
    client: FlaskClient, digest: str, browser: str, mime: str
) -> None:
    response = client.get(
        f"/image/{digest}/resize/60x/format/auto", headers={"Accept": BROWSERS[browser]}
    )
    assert response.status_code == 200
    assert response.mimetype == mime
    assert response.headers["Vary"] == "Accept"
    assert client.get(f"/image/{digest}/resize/60x").headers.get("Vary") is None


def test_odd_accept_headers_share_the_bucket_entry(client: FlaskClient, digest: str) -> None:
    url = f"/image/{digest}/resize/60x/format/auto"
    etags = {
        client.get(url, headers={"Accept": header}).headers["ETag"]
        for header in ("image/avif", "image/avif,image/webp,*/*", "text/html,image/avif;q=0.9")
    }
    assert len(etags) == 1
    assert client.get(f"/image/{digest}/resize/60x/format/avif").headers["ETag"] in etags


def test_size_and_format_query(client: FlaskClient, digest: str) -> None:
    thumb = client.get(f"/image/{digest}?size=thumb")
    assert decode(thumb.data).width == 200
    assert decode(thumb.data).height == 200
    medium = client.get(f"/image/{digest}?size=medium&format=webp")
    assert medium.mimetype == "image/webp"
    assert decode(medium.data).width == 400  # fit inside 800x800, never enlarged
    after_path = client.get(f"/image/{digest}/format/jpeg/resize/100x?format=png")
    assert after_path.mimetype == "image/png"  # the query applies after the path
    auto = client.get(f"/image/{digest}?format=auto", headers={"Accept": "image/webp"})
    assert auto.mimetype == "image/webp"
    assert auto.headers["Vary"] == "Accept"
    preset_path = client.get(f"/image/{digest}/preset/thumb")
    assert preset_path.headers["ETag"] == thumb.headers["ETag"]


@pytest.mark.parametrize(
    ("query", "named"), [("size=huge", "'size=huge'"), ("format=bmp", "'format=bmp'")]
)
def test_bad_query_values_are_named(
    client: FlaskClient, digest: str, query: str, named: str
) -> None:
    response = client.get(f"/image/{digest}?{query}")
    assert response.status_code == 400
    assert named in response.get_json()["message"]


def test_smart_crop_of_an_animation_is_refused(client: FlaskClient) -> None:
    frames = [pyvips.Image.black(40, 30).new_from_image([c, 0, 0]) for c in (0, 128, 255)]
    strip = pyvips.Image.arrayjoin(frames, across=1).cast("uchar").copy(interpretation="srgb")
    strip.set_type(pyvips.GValue.gint_type, "page-height", 30)
    gif = strip.write_to_buffer(".gif")
    upload = client.post("/upload", data=gif, content_type="image/gif")
    assert upload.status_code == 201
    url = f"/image/{upload.get_json()['hash']}"
    refused = client.get(f"{url}/crop/smart20x20")
    assert refused.status_code == 400
    assert "'crop/smart20x20'" in refused.get_json()["message"]
    assert client.get(f"{url}/crop/smart20x20/format/png").status_code == 200
