"""One size per source: what `sniff` (and so `/metadata` and every step's size) says is what
the decoders hand the engines, for the files other projects found disagreeing.

AVIFs with transformative properties are libvips AVIFs with boxes added (tests/engines/
avif_boxes.py); the GIFs are written byte by byte here; the animated AVIF is a file avifenc
wrote (tests/engines/files/README.md says how). libvips' `new_from_buffer` is the reference
for the decoded size, as libvips decides what an upload is (`engines.verify`).
"""

from __future__ import annotations

import io
import struct
from fractions import Fraction
from pathlib import Path

import pytest
import pyvips
from flask.testing import FlaskClient

from images_server.errors import UndecodableImage, UnsupportedFormat
from images_server.formats.sniff import for_decoders, sniff
from images_server.metadata import describe
from tests.engines.avif_boxes import add_properties, box, clap, imir, irot
from tests.images import decode, decode_frames, near, pixel, quadrant_image
from tests.spine import Spine

FILES = Path(__file__).with_name("files")
SEQUENCE = FILES / "sequence-64x48-3-frames.avifs"
RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


# --- AVIF clap, irot, imir ----------------------------------------------------------------


def still_avif() -> bytes:
    """A 385x330 AVIF, the size of the picture that came out stretched; quadrants of colour."""
    return bytes(quadrant_image(385, 330).write_to_buffer(".avif", keep="none"))


TRANSFORMED = {
    # 300x200 from x 40, y 100: wider than tall, where the whole image is nearly square
    "clap": ((clap(300, 200, Fraction(-5, 2), Fraction(71, 2)),), (300, 200)),
    "clap-odd-fractions": ((clap(Fraction(401, 2), 99, Fraction(-7, 3), 11),), (201, 99)),
    "irot-90": ((irot(1),), (330, 385)),
    "irot-270": ((irot(3),), (330, 385)),
    "imir": ((imir(1),), (385, 330)),
    "clap-then-irot": ((clap(300, 200), irot(1)), (200, 300)),
    "irot-then-clap": ((irot(1), clap(300, 200)), (300, 200)),
    "clap-irot-imir": ((clap(300, 200, 4, -6), irot(3), imir(0)), (200, 300)),
}


@pytest.mark.parametrize("name", TRANSFORMED)
def test_avif_transforms_give_the_decoded_size(name: str) -> None:
    properties, size = TRANSFORMED[name]
    data = add_properties(still_avif(), *properties)

    info = sniff(data)
    decoded = pyvips.Image.new_from_buffer(data, "", fail_on="error")

    assert (info.width, info.height) == size
    assert (decoded.width, decoded.height) == size
    decoded.avg()  # and every pixel of that size decodes
    facts = describe(data)
    assert (facts.width, facts.height) == size


@pytest.mark.parametrize("name", TRANSFORMED)
def test_avif_transforms_resize_with_the_right_aspect(spine: Spine, name: str) -> None:
    properties, (width, height) = TRANSFORMED[name]
    data = add_properties(still_avif(), *properties)

    out = decode(spine(data, "resize/300x/format/png"))

    assert (out.width, out.height) == (300, round(300 * height / width))


def test_avif_clap_crops_the_right_pixels(spine: Spine) -> None:
    # the aperture is the top-right quadrant's lower part and the bottom-right's upper part
    data = add_properties(still_avif(), clap(100, 100, 100, 0))
    out = spine(data, "format/png")
    assert (decode(out).width, decode(out).height) == (100, 100)
    assert near(pixel(out, 50, 10), GREEN)
    assert near(pixel(out, 50, 90), BLUE)


@pytest.mark.parametrize(
    "aperture",
    [clap(400, 100), clap(300, 200, 60, 0), clap(100, 100, 0, -120)],
    ids=["wider-than-the-image", "past-the-right-edge", "past-the-top"],
)
def test_avif_clap_outside_the_image_is_undecodable(aperture: bytes) -> None:
    data = add_properties(still_avif(), aperture)
    with pytest.raises(UndecodableImage, match="outside"):
        sniff(data)
    with pytest.raises(pyvips.Error):  # libvips' header takes it, its decoder does not
        pyvips.Image.new_from_buffer(data, "", fail_on="error").avg()


def test_avif_clap_with_a_zero_denominator_is_undecodable() -> None:
    zero = box(b"clap", struct.pack(">IIIIiIiI", 10, 0, 10, 1, 0, 1, 0, 1))
    with pytest.raises(UndecodableImage, match="zero denominator"):
        sniff(add_properties(still_avif(), zero))


def test_avif_clap_of_a_huge_image_counts_what_is_decoded() -> None:
    data = add_properties(still_avif(), clap(10, 10))
    info = sniff(data)
    assert (info.width, info.height) == (10, 10)
    assert info.decoded_pixels == 385 * 330  # the whole image is decoded, then cropped


# --- animated AVIF -------------------------------------------------------------------------


def test_animated_avif_is_its_first_frame(spine: Spine) -> None:
    data = SEQUENCE.read_bytes()
    assert data[8:12] == b"avis"

    info = sniff(data)
    out = decode(spine(data, "resize/300x"))

    assert (info.format, info.width, info.height, info.frames) == ("avif", 64, 48, 1)
    assert (out.width, out.height) == (300, 225)
    first = pyvips.Image.new_from_buffer(for_decoders(data), "")
    assert abs(out.avg() - first.avg()) < 8


def test_animated_avif_uploads_and_is_served(client: FlaskClient) -> None:
    data = SEQUENCE.read_bytes()

    response = client.post("/upload", data={"file": (io.BytesIO(data), "a.avifs")})

    assert response.status_code == 201, response.get_json()
    digest = response.get_json()["hash"]
    facts = client.get(f"/image/{digest}/metadata").get_json()
    assert (facts["width"], facts["height"], facts["frames"]) == (64, 48, 1)
    original = client.get(f"/image/{digest}")
    assert (original.status_code, original.data) == (200, data)
    variant = client.get(f"/image/{digest}/resize/32x/format/png")
    assert variant.status_code == 200
    assert (decode(variant.data).width, decode(variant.data).height) == (32, 24)


def test_image_sequence_without_a_still_image_is_unsupported() -> None:
    data = SEQUENCE.read_bytes()
    size = int.from_bytes(data[44:48], "big")
    assert data[48:52] == b"meta"
    with pytest.raises(UnsupportedFormat, match="sequence"):
        sniff(data[:44] + data[44 + size :])


# --- GIF frames outside the logical screen --------------------------------------------------

PALETTE = bytes([*RED, *BLUE, *GREEN, *WHITE])  # indices 0..3


def lzw(indices: list[int]) -> bytes:
    """GIF image data for `indices` (2-bit colours) with a clear code before every two
    literals, so the codes stay 3 bits wide and no table is ever built: valid, if not small."""
    clear, end, bits, count, out = 4, 5, 0, 0, bytearray()
    codes = [code for i in range(0, len(indices), 2) for code in (clear, *indices[i : i + 2])]
    for code in [*codes, end]:
        bits |= code << count
        count += 3
        while count >= 8:
            out.append(bits & 0xFF)
            bits, count = bits >> 8, count - 8
    if count:
        out.append(bits)
    blocks = b"".join(
        bytes([len(out[i : i + 255])]) + out[i : i + 255] for i in range(0, len(out), 255)
    )
    return b"\x02" + blocks + b"\x00"


def gif_frame(left: int, top: int, width: int, height: int, colour: int) -> bytes:
    control = b"\x21\xf9\x04\x00\x0a\x00\x00\x00"  # 100 ms, no transparency
    descriptor = b"\x2c" + struct.pack("<HHHH", left, top, width, height) + b"\x00"
    return control + descriptor + lzw([colour] * (width * height))


def gif(*frames: bytes, screen: tuple[int, int] = (10, 10)) -> bytes:
    head = b"GIF89a" + struct.pack("<HH", *screen) + b"\xf1\x00\x00" + PALETTE
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00" if len(frames) > 1 else b""
    return head + loop + b"".join(frames) + b"\x3b"


OVERFLOWING = gif_frame(5, 5, 10, 10, 1)  # blue, half of it past the 10x10 screen
GIFS = {
    "single": gif(OVERFLOWING),
    "animated-first-overflows": gif(OVERFLOWING, gif_frame(0, 0, 10, 10, 2)),
    "animated-second-overflows": gif(gif_frame(0, 0, 10, 10, 2), OVERFLOWING),
}


@pytest.mark.parametrize("name", GIFS)
def test_gif_frame_past_the_screen_is_clipped_to_it(name: str) -> None:
    data = GIFS[name]

    info = sniff(data)

    assert (info.width, info.height) == (10, 10)
    assert (describe(data).width, describe(data).height) == (10, 10)


@pytest.mark.parametrize("name", GIFS)
@pytest.mark.parametrize("path", ["format/png", "resize/20x/format/png", "rotate/90/format/png"])
def test_gif_frame_past_the_screen_single_frame_outputs(spine: Spine, name: str, path: str) -> None:
    out = decode(spine(GIFS[name], path))
    side = 20 if "resize" in path else 10
    assert (out.width, out.height) == (side, side)


@pytest.mark.parametrize("name", GIFS)
@pytest.mark.parametrize("path", ["format/gif", "resize/20x", "rotate/90/format/webp"])
def test_gif_frame_past_the_screen_animated_outputs(spine: Spine, name: str, path: str) -> None:
    frames = decode_frames(spine(GIFS[name], path))
    side = 20 if "resize" in path else 10
    assert len(frames) == (1 if name == "single" else 2)
    assert all((f.width, f.height) == (side, side) for f in frames)


def test_gif_overflowing_frame_keeps_its_pixels_on_the_screen(spine: Spine) -> None:
    frame = decode_frames(spine(GIFS["animated-first-overflows"], "format/gif"))[0]
    assert near(list(frame(7, 7)), BLUE)  # the part of the frame on the screen
    assert near(list(frame(9, 9)), BLUE)


def test_gif_frame_overflow_counts_against_the_pixel_limit() -> None:
    # a 1x1 screen with a 20000x20000 frame: libnsgif would allocate the frame's canvas
    head = b"GIF89a\x01\x00\x01\x00\xf1\x00\x00" + PALETTE
    data = head + b"\x2c" + struct.pack("<HHHH", 0, 0, 20000, 20000) + b"\x00\x02\x00\x3b"

    info = sniff(data)

    assert (info.width, info.height) == (1, 1)
    assert info.decoded_pixels == 20000 * 20000
