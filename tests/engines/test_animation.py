"""Animated GIF and WebP on both engines: every frame through the steps, timing kept.

Each source frame has its own colour on the left half (red, green, blue, in order) and a
black top-right and white bottom-right quarter, so a frame out of order, a frame left out
of a step, or a wrong flip or turn shows up in the pixels of every frame. Delays are
multiples of 10 ms, which GIF (centiseconds) and WebP (milliseconds) both hold exactly.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import pyvips
from flask.testing import FlaskClient

from images_server.app import create_app
from images_server.formats.sniff import sniff
from images_server.settings import Settings
from tests.images import animation, animation_timing, decode, decode_frames, near, pixel
from tests.spine import Spine

W, H = 48, 32
COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
DELAYS = [100, 200, 300]
LOOP = 2
BLACK, WHITE = (0, 0, 0), (255, 255, 255)
FRAME = None  # in a sample: the frame's own colour

Sample = tuple[float, float, tuple[int, int, int] | None]  # x, y as fractions, colour
PLAIN: list[Sample] = [(0.25, 0.5, FRAME), (0.75, 0.25, BLACK), (0.75, 0.75, WHITE)]
FLIPPED: list[Sample] = [(0.75, 0.5, FRAME), (0.25, 0.25, BLACK), (0.25, 0.75, WHITE)]
TURNED: list[Sample] = [(0.5, 0.25, FRAME), (0.75, 0.75, BLACK), (0.25, 0.75, WHITE)]
TURNED_FLIPPED: list[Sample] = [(0.5, 0.25, FRAME), (0.25, 0.75, BLACK), (0.75, 0.75, WHITE)]

CASES: dict[str, tuple[tuple[int, int], list[Sample]]] = {
    "resize/24x": ((24, 16), PLAIN),
    "crop/n24x32": ((24, 32), PLAIN),
    "rotate/90": ((32, 48), TURNED),
    "flip/h": ((48, 32), FLIPPED),
    "resize/24x/rotate/90/flip/h": ((16, 24), TURNED_FLIPPED),
}


def frame(colour: tuple[int, int, int]) -> pyvips.Image:
    x, y = pyvips.Image.xyz(W, H)[0], pyvips.Image.xyz(W, H)[1]
    right = (y >= H / 2).ifthenelse(list(WHITE), list(BLACK))
    image = (x >= W / 2).ifthenelse(right, list(colour))
    return image.cast("uchar").copy(interpretation="srgb")


def source(fmt: str) -> bytes:
    return animation([frame(c) for c in COLOURS], fmt, DELAYS, LOOP)


def assert_animation(data: bytes, fmt: str, size: tuple[int, int], samples: list[Sample]) -> None:
    info = sniff(data)
    assert (info.format, info.frames) == (fmt, len(COLOURS))
    assert animation_timing(data) == (DELAYS, LOOP)
    frames = decode_frames(data)
    assert len(frames) == len(COLOURS)
    for image, colour in zip(frames, COLOURS, strict=True):
        assert (image.width, image.height) == size
        for fx, fy, expected in samples:
            at = pixel(image, int(fx * size[0]), int(fy * size[1]))
            assert near(at, expected or colour), (colour, fx, fy, at)


@pytest.mark.parametrize("fmt", ["gif", "webp"])
@pytest.mark.parametrize("path", CASES, ids=list(CASES))
def test_every_frame_goes_through_the_steps(spine: Spine, fmt: str, path: str) -> None:
    size, samples = CASES[path]
    assert_animation(spine(source(fmt), path), fmt, size, samples)


@pytest.mark.parametrize(("source_fmt", "output_fmt"), [("gif", "webp"), ("webp", "gif")])
def test_gif_and_webp_convert_into_each_other_animated(
    spine: Spine, source_fmt: str, output_fmt: str
) -> None:
    out = spine(source(source_fmt), f"resize/24x/format/{output_fmt}")
    assert_animation(out, output_fmt, (24, 16), PLAIN)


@pytest.mark.parametrize("fmt", ["jpeg", "png", "avif"])
def test_a_still_format_gets_the_first_frame(spine: Spine, fmt: str) -> None:
    out = spine(source("webp" if fmt == "avif" else "gif"), f"flip/h/format/{fmt}")
    info = sniff(out)
    assert (info.format, info.frames, info.width, info.height) == (fmt, 1, W, H)
    assert near(pixel(out, W * 3 // 4, H // 2), COLOURS[0])


def test_frames_smaller_than_the_canvas_are_composited(spine: Spine, convert: str) -> None:
    square = ["(", "-size", "10x10", "xc:blue", "-set", "page", "+5+5", ")"]
    args = ["-delay", "10", "-size", "40x30", "xc:red", *square, "-loop", "0"]
    data = subprocess.run([convert, *args, "gif:-"], capture_output=True, check=True).stdout
    frames = decode_frames(spine(data, "flip/h"))
    assert [(f.width, f.height) for f in frames] == [(40, 30), (40, 30)]
    assert near(pixel(frames[1], 40 - 10, 10), (0, 0, 255))  # the square, mirrored
    assert near(pixel(frames[1], 5, 25), (255, 0, 0))  # the first frame shows around it
    still = decode(spine(data, "format/png"))
    assert (still.width, still.height) == (40, 30)
    assert near(pixel(still, 10, 10), (255, 0, 0))


def test_transparency_does_not_show_the_previous_frame(spine: Spine) -> None:
    opaque = frame(COLOURS[0]).bandjoin(255)
    x = pyvips.Image.xyz(W, H)[0]
    holed = frame(COLOURS[2]).bandjoin((x >= W / 2).ifthenelse(255, 0).cast("uchar"))
    data = animation([opaque, holed], "gif", DELAYS[:2])
    assert decode_frames(data)[1](2, 2)[3] == 0  # the source itself is right
    for fmt in ("gif", "webp"):
        frames = decode_frames(spine(data, f"resize/24x/format/{fmt}"))
        assert frames[1](2, 2)[3] < 10  # not the red of the frame before
        assert frames[0](2, 2)[3] > 245


def upload_app(tmp_path: Path, max_frames: int) -> FlaskClient:
    return create_app(Settings(data_dir=tmp_path, max_frames=max_frames)).test_client()


def post(client: FlaskClient, data: bytes) -> tuple[int, dict[str, str]]:
    response = client.post("/upload", data=data, content_type="application/octet-stream")
    return response.status_code, response.get_json()


@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_frames_over_the_limit_are_413(tmp_path: Path, fmt: str) -> None:
    status, body = post(upload_app(tmp_path, max_frames=2), source(fmt))
    assert status == 413
    assert body["code"] == "payload_too_large"
    assert body["message"] == "3 frames is more than the limit of 2 frames"
    assert not (tmp_path / "originals").exists()
    assert post(upload_app(tmp_path, max_frames=3), source(fmt))[0] == 201


@pytest.mark.parametrize(("fmt", "cut"), [("gif", 1), ("gif", 40), ("webp", 1), ("webp", 40)])
def test_a_cut_animation_is_422(tmp_path: Path, fmt: str, cut: int) -> None:
    status, body = post(upload_app(tmp_path, max_frames=10), source(fmt)[:-cut])
    assert status == 422, body
    assert body["code"] == "undecodable_image"
