"""An upload or a pack analysis of a HEIC decodes it once: the upload check's pixels serve
`/metadata`'s header and sample, and the page's preview (`ingest.Checked`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import pyvips
from flask.testing import FlaskClient

from images_server import decoders
from images_server.decoders.target import Target
from images_server.formats.header import SourceInfo

HEIC = "heic/iphone8plus-irot270-3024x4032.heic"


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every shared-decoder decode from now on, by format (the real decoder runs)."""
    seen: list[str] = []
    real: Callable[[bytes, SourceInfo, Target | None], pyvips.Image] = decoders._DECODERS["heic"]

    def counted(data: bytes, info: SourceInfo, target: Target | None) -> pyvips.Image:
        seen.append(info.format)
        return real(data, info, target)

    monkeypatch.setitem(decoders._DECODERS, "heic", counted)
    return seen


def test_an_upload_decodes_its_heic_once(
    client: FlaskClient, samples: Path, decodes: list[str]
) -> None:
    response = client.post("/upload", data=(samples / HEIC).read_bytes(), content_type="image/heic")

    assert response.status_code == 201
    assert decodes == ["heic"]
    facts = client.get(f"/image/{response.get_json()['hash']}/metadata").get_json()
    assert facts["exif"]["make"] == "Apple"
    assert facts["placeholder"]


def test_a_pack_analysis_decodes_its_heic_once(
    client: FlaskClient, samples: Path, decodes: list[str]
) -> None:
    data = (samples / HEIC).read_bytes()  # a raw body: werkzeug spools a large form to a file
    response = client.post("/packs/analyze", data=data, content_type="image/heic")

    assert response.status_code == 200
    assert decodes == ["heic"]
    body = response.get_json()
    assert body["analysis"]["format"] == "heic"
    assert body["preview"].startswith("data:image/jpeg;base64,")
