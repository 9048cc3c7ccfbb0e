"""Every item of the hostile corpus through `POST /upload`, as a multipart file (with a lying
name and type) and as a raw body, on both engines: the exact status and error code of docs/api.md
§2, never a 5xx, nothing stored for a refused item (and no temp file anywhere under the
data dir), a servable original and variant for an accepted one, and a healthy app after.
Bodies over the byte limit are refused while streaming, without reading the rest.
"""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import pytest
import pyvips
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from images_server.app import create_app
from images_server.hashing import original_ref
from images_server.http.uploads import MULTIPART_SLACK
from images_server.services import Services
from images_server.settings import Settings
from tests.hostile.conftest import (
    assert_error,
    assert_healthy,
    describe,
    files_under,
    hostile_settings,
    sha256,
    temp_files,
)
from tests.hostile.corpus import TRAGICK_MARKERS, Hostile, corpus, png_zeros, small, zeros_zlib

MODES = ("multipart", "raw")


def upload(client: FlaskClient, item: Hostile, mode: str) -> TestResponse:
    if mode == "multipart":
        form = {"file": (io.BytesIO(item.data), item.filename, item.mime)}
        return client.post("/upload", data=form, content_type="multipart/form-data")
    return client.post("/upload", data=item.data, content_type=item.mime)


def assert_served(client: FlaskClient, item: Hostile, digest: str) -> None:
    """The original and a variant come back as the image type (or the web format it is
    served as: docs/formats.md), never sniffable as HTML."""
    assert item.format is not None
    for path in (f"/image/{digest}", f"/image/{digest}/resize/32x"):
        response = client.get(path)
        assert response.status_code == 200, (path, describe(response))
        assert response.mimetype in item.served_types, path
        assert response.headers.get("X-Content-Type-Options") == "nosniff", path


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("item", corpus(), ids=lambda item: item.name)
def test_upload_answers_each_hostile_input(
    item: Hostile, mode: str, client: FlaskClient, settings: Settings, services: Services
) -> None:
    before = files_under(settings.data_dir)

    response = upload(client, item, mode)

    if item.accepted:
        assert response.status_code == 201, describe(response)
        body = response.get_json()
        assert body["status"] == "success"
        assert body["hash"] == sha256(item.data)
        assert body["format"] == item.format
        assert body["bytes"] == len(item.data)
        assert body["width"] >= 1
        assert body["height"] >= 1
        assert services.storage.exists(original_ref(item.data))
        added = files_under(settings.data_dir) - before
        assert len(added) == 1, added
        assert added.pop().startswith("originals/"), added
        assert_served(client, item, body["hash"])
    else:
        assert_error(response, item.status, item.code)
        assert files_under(settings.data_dir) == before
        if item.data:
            assert not services.storage.exists(original_ref(item.data))
    assert not temp_files(settings.data_dir)
    assert not [marker for marker in TRAGICK_MARKERS if Path(marker).exists()]
    assert_healthy(client)


def test_the_bomb_builder_makes_real_images() -> None:
    """The deflate streams are honest: a bomb is a whole image, not just a lying header."""
    assert zlib.decompress(zeros_zlib((3 << 20) + 7, b"head")) == b"head" + bytes((3 << 20) + 7)
    image = pyvips.Image.new_from_buffer(png_zeros(3000, 2000), "", fail_on="truncated")
    assert (image.width, image.height, image.max()) == (3000, 2000, 0)


# --- byte limits -----------------------------------------------------------------------------


class EndlessBody(io.RawIOBase):
    """A request body of `total` zero bytes that counts how much of it the server read."""

    def __init__(self, total: int) -> None:
        super().__init__()
        self.total = total
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        size = min(len(buffer), self.total - self.consumed)
        buffer[:size] = bytes(size)
        self.consumed += size
        return size

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self.consumed  # werkzeug's test builder asks; no length comes of it

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.consumed


LIMIT = 4096


@pytest.fixture
def limited(tmp_path: Path, engine_name: str) -> tuple[FlaskClient, Settings]:
    settings = hostile_settings(tmp_path / "data", engine_name, max_upload_bytes=LIMIT)
    return create_app(settings).test_client(), settings


def test_raw_body_one_byte_over_the_limit_is_413(limited: tuple[FlaskClient, Settings]) -> None:
    client, settings = limited
    response = client.post("/upload", data=bytes(LIMIT + 1), content_type="image/png")
    assert_error(response, 413, "upload_too_large")
    assert files_under(settings.data_dir) == set()


def test_multipart_file_one_byte_over_the_limit_is_413(
    limited: tuple[FlaskClient, Settings],
) -> None:
    client, settings = limited
    form = {"file": (io.BytesIO(bytes(LIMIT + 1)), "x.png", "image/png")}
    response = client.post("/upload", data=form, content_type="multipart/form-data")
    assert_error(response, 413, "upload_too_large")
    assert files_under(settings.data_dir) == set()


def test_an_image_of_exactly_the_limit_is_accepted_and_one_byte_more_is_not(
    tmp_path: Path, engine_name: str
) -> None:
    data = small("png")
    settings = hostile_settings(tmp_path / "data", engine_name, max_upload_bytes=len(data))
    client = create_app(settings).test_client()

    over = client.post("/upload", data=data + b"\0", content_type="image/png")
    assert_error(over, 413, "upload_too_large")
    assert files_under(settings.data_dir) == set()
    assert client.post("/upload", data=data, content_type="image/png").status_code == 201


@pytest.mark.parametrize("mimetype", ["image/png", "multipart/form-data; boundary=x"])
def test_a_chunked_body_is_cut_off_at_the_limit(
    limited: tuple[FlaskClient, Settings], mimetype: str
) -> None:
    """No Content-Length: the server reads at most the limit (and the multipart slack)."""
    client, settings = limited
    body = EndlessBody(64 << 20)
    response = client.post(
        "/upload",
        input_stream=body,
        headers={"Content-Type": mimetype, "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert_error(response, 413, "upload_too_large")
    assert body.consumed <= LIMIT + MULTIPART_SLACK + 64 * 1024, body.consumed
    assert files_under(settings.data_dir) == set()
    assert_healthy(client)


def test_a_declared_length_over_the_limit_is_refused_before_reading(
    limited: tuple[FlaskClient, Settings],
) -> None:
    client, settings = limited
    body = EndlessBody(64 << 20)
    response = client.post(
        "/upload",
        input_stream=body,
        headers={"Content-Type": "image/png"},
        environ_overrides={"CONTENT_LENGTH": str(64 << 20)},
    )
    assert_error(response, 413, "upload_too_large")
    assert body.consumed == 0
    assert files_under(settings.data_dir) == set()
