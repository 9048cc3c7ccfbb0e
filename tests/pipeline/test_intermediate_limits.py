"""Memory per request: pixel limits bound every size a render goes through, from the header.

The output limit (`IMAGES_MAX_OUTPUT_PIXELS`) applies to every intermediate step, not only
the last: a slight turn of a large image grows its canvas before a resize shrinks it. The
source limit (`IMAGES_MAX_PIXELS`) applies to what a decoder allocates, which can be more
than the image shows: a GIF frame reaching past its screen, an AVIF grid's tiles, an AVIF
cropped by `clap`. Both are decided from the header: the sources here declare a size and
carry no pixel data, so any decode would answer 422, and the 400 or 413 proves none ran.
"""

from __future__ import annotations

import io
import struct

import pytest
from flask.testing import FlaskClient

from images_server.errors import ImagesError, OutputTooLarge, TooManyPixels, UndecodableImage
from images_server.formats.sniff import sniff
from images_server.ingest import check_header_limits
from images_server.pipeline.geometry import rotated_size
from images_server.settings import Settings
from tests.engines.avif_boxes import box, full_box
from tests.images import quadrant_bytes
from tests.spine import Spine


def jpeg_header_only(width: int, height: int) -> bytes:
    """A JPEG whose frame header says `width` x `height`, and no scan: undecodable."""
    data = quadrant_bytes(64, 48, "jpeg")
    sof = data.index(b"\xff\xc0")
    patched = data[: sof + 5] + struct.pack(">HH", height, width) + data[sof + 9 :]
    return patched[: patched.index(b"\xff\xda")] + b"\xff\xd9"


BIG = jpeg_header_only(7000, 7000)  # 49 MP: within IMAGES_MAX_PIXELS


def outcome(spine: Spine, path: str) -> type[ImagesError] | None:
    try:
        spine(BIG, path)
    except ImagesError as exc:
        return type(exc)
    return None


def test_the_source_is_within_the_limits_and_would_be_decoded(spine: Spine) -> None:
    check_header_limits(Settings(), sniff(BIG))
    assert outcome(spine, "resize/100x") is UndecodableImage  # the decoder did run here


@pytest.mark.parametrize(
    "path", ["rotate/45/resize/100x", "rotate/10/crop/100x100", "rotate/1/rotate/90/resize/5%"]
)
def test_rotated_canvas_over_the_output_limit_is_400_before_decoding(
    spine: Spine, path: str
) -> None:
    width, height = rotated_size(7000, 7000, 1)
    assert width * height > Settings().max_output_pixels  # even one degree passes 50 MP
    with pytest.raises(OutputTooLarge, match=r"'rotate/\d+'"):
        spine(BIG, path)


def test_enlarged_intermediate_over_the_output_limit_is_400(spine: Spine) -> None:
    with pytest.raises(OutputTooLarge, match="'resize/200%'"):
        spine(BIG, "resize/200%/resize/100x")


# --- decoded sizes larger than the displayed one -------------------------------------------


def gif_with_frame_past_the_screen(frame: int) -> bytes:
    """A 1x1 screen holding a `frame` x `frame` frame (no pixel data)."""
    head = b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + bytes(6)  # two-colour table
    return head + b"\x2c" + struct.pack("<HHHH", 0, 0, frame, frame) + b"\x00\x02\x00\x3b"


def avif_grid(canvas: int, tile: int, tiles: int) -> bytes:
    """A grid primary item of `canvas` pixels a side, made of `tiles` tiles of `tile` a side."""
    ids = range(2, 2 + tiles)
    infe = [full_box(b"infe", struct.pack(">HH", 1, 0) + b"grid\x00", version=2)]
    infe += [full_box(b"infe", struct.pack(">HH", i, 0) + b"av01\x00", version=2) for i in ids]
    iinf = full_box(b"iinf", struct.pack(">H", len(infe)) + b"".join(infe))
    dimg = box(b"dimg", struct.pack(">HH", 1, tiles) + b"".join(struct.pack(">H", i) for i in ids))
    iref = full_box(b"iref", dimg)
    ispe = [full_box(b"ispe", struct.pack(">II", side, side)) for side in (canvas, tile)]
    entries = struct.pack(">HBB", 1, 1, 1) + b"".join(struct.pack(">HBB", i, 1, 2) for i in ids)
    ipma = full_box(b"ipma", struct.pack(">I", 1 + tiles) + entries)
    iprp = box(b"iprp", box(b"ipco", b"".join(ispe)) + ipma)
    hdlr = full_box(b"hdlr", bytes(4) + b"pict" + bytes(13))
    meta = full_box(b"meta", hdlr + full_box(b"pitm", struct.pack(">H", 1)) + iinf + iref + iprp)
    return box(b"ftyp", b"avif" + bytes(4) + b"avifmif1miaf") + meta + box(b"mdat")


def test_gif_frame_past_the_screen_counts_what_the_decoder_allocates() -> None:
    info = sniff(gif_with_frame_past_the_screen(8000))
    assert (info.width, info.height, info.decoded_pixels) == (1, 1, 64_000_000)
    with pytest.raises(TooManyPixels, match="decodes to 64000000 pixels"):
        check_header_limits(Settings(), info)
    check_header_limits(Settings(), sniff(gif_with_frame_past_the_screen(7000)))


def test_avif_grid_tiles_count_against_the_pixel_limit() -> None:
    info = sniff(avif_grid(canvas=4000, tile=4000, tiles=4))  # 4 tiles where 1 would do
    assert (info.width, info.height, info.decoded_pixels) == (4000, 4000, 64_000_000)
    with pytest.raises(TooManyPixels):
        check_header_limits(Settings(), info)
    fitting = sniff(avif_grid(canvas=4000, tile=2000, tiles=4))
    assert fitting.decoded_pixels == 16_000_000
    check_header_limits(Settings(), fitting)


@pytest.mark.parametrize(
    "data",
    [gif_with_frame_past_the_screen(8000), avif_grid(canvas=4000, tile=4000, tiles=4)],
    ids=["gif", "avif-grid"],
)
def test_upload_of_a_hidden_decode_bomb_is_413(client: FlaskClient, data: bytes) -> None:
    response = client.post("/upload", data={"file": (io.BytesIO(data), "bomb")})
    assert response.status_code == 413
    assert response.get_json()["code"] == "too_many_pixels"
