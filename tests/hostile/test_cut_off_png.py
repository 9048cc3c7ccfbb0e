"""A PNG cut off near its end: one rule decides the upload and the original (docs/api.md §6).

A file that lost only its end (no IEND, or IEND cut anywhere in its 12 bytes, or a cut
ancillary chunk after the image data) is a whole image, as browsers show it: accepted, and
the original is served ended with a proper IEND, on every engine. A file cut in its image
data (IDAT) is truncated: 422 at upload, before anything is stored.
"""

from __future__ import annotations

import io
import zlib

import pytest
import pyvips
from flask.testing import FlaskClient

from images_server.errors import UndecodableImage
from images_server.formats.sniff import sniff
from images_server.formats.strip import strip_metadata
from tests.images import decode, quadrant_bytes

IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def whole() -> bytes:
    data = quadrant_bytes(40, 30)
    assert data.endswith(IEND)
    return data


def text_after_data() -> bytes:
    body = b"Comment\x00" + b"x" * 40
    chunk = len(body).to_bytes(4, "big") + b"tEXt" + body
    text = chunk + zlib.crc32(chunk[4:]).to_bytes(4, "big")
    return whole()[: -len(IEND)] + text + IEND


LOST_THEIR_END = {
    "no-iend": whole()[: -len(IEND)],
    "iend-without-crc": whole()[:-4],
    "iend-half": whole()[:-6],
    "iend-length-only": whole()[:-8],
    "text-after-data-cut": text_after_data()[: -len(IEND) - 20],
}
CUT_IN_IMAGE_DATA = {
    "idat-without-crc": whole()[: -len(IEND) - 4],
    "idat-crc-half": whole()[: -len(IEND) - 2],
    "idat-data-cut": whole()[: -len(IEND) - 10],
}


def upload(client: FlaskClient, data: bytes) -> tuple[int, dict[str, object]]:
    response = client.post("/upload", data={"file": (io.BytesIO(data), "cut.png")})
    return response.status_code, response.get_json()


@pytest.mark.parametrize("name", LOST_THEIR_END)
def test_png_that_lost_its_end_is_accepted_and_served_whole(client: FlaskClient, name: str) -> None:
    status, body = upload(client, LOST_THEIR_END[name])
    assert status == 201, body

    original = client.get(f"/image/{body['hash']}")

    assert original.status_code == 200
    assert original.data.endswith(IEND)
    served = pyvips.Image.new_from_buffer(original.data, "", fail_on="warning")
    assert (served - decode(whole())).abs().max() == 0
    variant = client.get(f"/image/{body['hash']}/resize/20x")
    assert variant.status_code == 200
    assert (decode(variant.data).width, decode(variant.data).height) == (20, 15)


@pytest.mark.parametrize("name", CUT_IN_IMAGE_DATA)
def test_png_cut_in_its_image_data_is_422_at_upload(client: FlaskClient, name: str) -> None:
    status, body = upload(client, CUT_IN_IMAGE_DATA[name])
    assert status == 422
    assert body["code"] == "undecodable_image"
    assert "IDAT" in str(body["message"])


@pytest.mark.parametrize("name", CUT_IN_IMAGE_DATA)
def test_stripper_refuses_a_png_cut_in_its_image_data(name: str) -> None:
    data = CUT_IN_IMAGE_DATA[name]
    info = sniff(whole())  # what the header says, as if sniff had let it in
    with pytest.raises(UndecodableImage, match="IDAT"):
        strip_metadata(data, info)
