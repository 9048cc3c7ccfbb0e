"""The hostile SVG corpus over HTTP, on both engines: each payload is refused with its status,
or drawn with the attack gone; the loopback origin it points at gets no request, and the
temp files it points at never show in the output.

The legitimate drawing of every payload is all green and the attack's target all magenta,
so one stray fetched image, style sheet or document shows in the pixels; the control test
proves that librsvg left to itself does draw such a target.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import pyvips
from flask.testing import FlaskClient

from images_server.decoders.svg_sanitize import sanitize
from images_server.formats.sniff import sniff
from images_server.settings import Settings
from tests.hostile.svg_corpus import (
    ACCEPTED,
    CORPUS,
    EVIL_CSS,
    MAGENTA_DATA_URI,
    MAGENTA_PNG,
    MAGENTA_SVG,
    HostileSvg,
)
from tests.images import decode
from tests.origin import Origin, serving
from tests.svgs import document


@pytest.fixture
def settings(tmp_path: Path, engine_name: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", engine=engine_name, svg_enabled=True)


@pytest.fixture
def origin() -> Iterator[Origin]:
    state = Origin()
    for name, mime, body in (
        ("/magenta.png", "image/png", MAGENTA_PNG),
        ("/magenta.svg", "image/svg+xml", MAGENTA_SVG.encode()),
        ("/evil.css", "text/css", EVIL_CSS.encode()),
        ("/secret.txt", "text/plain", b"secret"),
    ):
        state.routes[name] = (200, mime, body)
    with serving(state) as running:
        yield running


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """The files the payloads name: a magenta image and document, and a secret."""
    directory = tmp_path / "targets"
    directory.mkdir()
    (directory / "magenta.png").write_bytes(MAGENTA_PNG)
    (directory / "magenta.svg").write_text(MAGENTA_SVG)
    (directory / "secret.txt").write_text("secret")
    return directory


def all_green(image: pyvips.Image) -> bool:
    red, green, blue = (image[band] for band in range(3))
    return (red.max(), green.min(), blue.max()) == (0, 255, 0)


@pytest.mark.parametrize("case", CORPUS, ids=[case.name for case in CORPUS])
def test_hostile_svg(client: FlaskClient, origin: Origin, files: Path, case: HostileSvg) -> None:
    data = case.data(f"http://127.0.0.1:{origin.port}", str(files))

    response = client.post("/upload", data={"file": (io.BytesIO(data), "x.svg")})

    status, code = case.answer
    assert response.status_code == status, response.get_json()
    if case.answer != ACCEPTED:
        assert response.get_json()["code"] == code
        assert sum(origin.hits.values()) == 0
        return
    digest = response.get_json()["hash"]
    for path in ("", "/resize/300x/format/png", "/resize/50x/format/webp/quality/100"):
        rendered = client.get(f"/image/{digest}{path}")
        assert rendered.status_code == 200
        image = decode(rendered.data)
        assert all_green(image), f"{path}: something besides the green drawing was drawn"
    assert sum(origin.hits.values()) == 0, dict(origin.hits)
    clean = sanitize(data, 100, 100)
    for named in (str(origin.port).encode(), str(files).encode(), b"javascript", b"data:"):
        assert named not in clean


def test_control_librsvg_alone_draws_what_the_sanitizer_removes() -> None:
    """Unsanitized, the data: URI image draws magenta: the corpus' green check would see it."""
    raw = document(f'<image href="{MAGENTA_DATA_URI}" width="100" height="100"/>')
    drawn = pyvips.Image.svgload_buffer(raw)
    assert drawn(50, 50)[:3] == [255, 0, 255]
    clean = pyvips.Image.svgload_buffer(sanitize(raw, 100, 100))
    assert clean(50, 50)[:3] == [0, 255, 0]


def test_sanitized_document_sizes_match_the_header() -> None:
    data = document("")
    info = sniff(data)
    clean = pyvips.Image.svgload_buffer(sanitize(data, info.width, info.height))
    assert (clean.width, clean.height) == (info.width, info.height)
