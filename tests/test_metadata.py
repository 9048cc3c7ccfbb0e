"""`describe`: header facts, the EXIF allow-list (docs/api.md §5), BlurHash and dominant colour."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import pyvips

from images_server.errors import UnsupportedFormat
from images_server.formats.sniff import sniff
from images_server.metadata import SAMPLE_SIZE, blurhash, describe, sample
from tests.images import QUADRANTS, animation, encode, quadrant_bytes, quadrant_image

KEYS = [
    "width",
    "height",
    "format",
    "mime",
    "bytes",
    "has_alpha",
    "frames",
    "orientation",
    "color_space",
    "exif",
    "placeholder",
    "dominant_color",
]
BASE83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"


def base83(text: str) -> int:
    value = 0
    for char in text:
        value = value * 83 + BASE83.index(char)
    return value


def close(rgb: tuple[int, ...], expected: tuple[int, ...], tolerance: int) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(rgb, expected, strict=True))


def hex_rgb(colour: object) -> tuple[int, ...]:
    assert isinstance(colour, str)
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def solid(rgb: tuple[int, int, int], width: int = 40, height: int = 30) -> pyvips.Image:
    return (pyvips.Image.black(width, height) + list(rgb)).cast("uchar").copy(interpretation="srgb")


def test_iphone_photo_keeps_only_safe_exif(samples: Path) -> None:
    data = (samples / "camera-iphone-8mp-3264x2448.jpg").read_bytes()
    meta = describe(data)
    assert list(meta.to_json()) == KEYS
    assert (meta.width, meta.height, meta.bytes) == (3264, 2448, len(data))
    assert (meta.format, meta.mime, meta.color_space) == ("jpeg", "image/jpeg", "srgb")
    assert meta.exif == {
        "make": "Apple",
        "model": "iPhone 6",
        "lens_model": "iPhone 6 back camera 4.15mm f/2.2",
        "exposure_time": "1/40",
        "f_number": 2.2,
        "iso": 32,
        "focal_length": 4.15,
        "taken_at": "2015-04-10T20:12:23",
        "orientation": 1,
        "software": "8.3",
    }
    text = json.dumps(meta.to_json())
    assert "GPS" not in text
    assert "40, 26" not in text  # the latitude the photo carries
    assert "49.1" not in text
    assert "erial" not in text


def test_canon_photo_is_described_upright(samples: Path) -> None:
    meta = describe((samples / "camera-canon-3mp-orient6.jpg").read_bytes())
    assert (meta.width, meta.height, meta.orientation) == (1536, 2048, 6)
    exif = meta.exif
    assert isinstance(exif, dict)
    assert exif["make"] == "Canon"
    assert exif["orientation"] == 6


def test_png_with_alpha() -> None:
    meta = describe(quadrant_bytes(64, 48, "png", alpha=True))
    assert meta.has_alpha is True
    assert meta.color_space == "srgb"
    exif = meta.exif
    assert isinstance(exif, dict)
    assert set(exif) <= {"orientation"}  # libvips writes an EXIF block with the orientation
    assert (meta.width, meta.height, meta.frames) == (64, 48, 1)


def test_grey_image_has_its_colour_space() -> None:
    grey = pyvips.Image.black(20, 10).cast("uchar").copy(interpretation="b-w")
    meta = describe(encode(grey, "png"))
    assert meta.color_space == "b-w"
    assert meta.dominant_color == "#000000"


def test_animated_gif_counts_frames() -> None:
    frames = [solid((255, 0, 0), 20, 20), solid((0, 0, 255), 20, 20), solid((0, 255, 0), 20, 20)]
    meta = describe(animation(frames, "gif", [100, 100, 100]))
    assert (meta.format, meta.mime, meta.frames) == ("gif", "image/gif", 3)
    assert (meta.width, meta.height) == (20, 20)


def decode_ac(placeholder: str) -> list[float]:
    """The AC components a BlurHash carries, back in linear light (per channel)."""
    maximum = (base83(placeholder[1]) + 1) / 166
    values = []
    for i in range(6, len(placeholder), 2):
        packed = base83(placeholder[i : i + 2])
        for quant in (packed // 361, packed // 19 % 19, packed % 19):
            ratio = (quant - 9) / 9
            values.append(ratio * abs(ratio) * maximum)
    return values


def test_blurhash_of_a_solid_colour_is_its_dc() -> None:
    colour = (200, 100, 50)
    placeholder = describe(encode(solid(colour), "png")).placeholder
    assert isinstance(placeholder, str)
    assert len(placeholder) == 28  # 1 size + 1 maximum + 4 DC + 2 x 11 AC
    assert base83(placeholder[0]) == (4 - 1) + (3 - 1) * 9
    dc = base83(placeholder[2:6])
    assert close((dc >> 16, dc >> 8 & 255, dc & 255), colour, 2)
    # Only the discrete cosine sums' half-sample residue (2 x value / 32): no real detail.
    assert max(abs(v) for v in decode_ac(placeholder)) < 0.05


def test_blurhash_of_quadrants_has_detail() -> None:
    placeholder = describe(quadrant_bytes(64, 48)).placeholder
    assert isinstance(placeholder, str)
    assert len(placeholder) == 28
    assert max(abs(v) for v in decode_ac(placeholder)) > 0.1


def test_blurhash_matches_the_reference_encoder() -> None:
    # The same pixels through woltapp's algorithm as implemented by PyPI `blurhash` 1.1.5.
    assert blurhash(quadrant_image(32, 24), 4, 3) == "L~Lqe9|_sUK4s_mDi}c7fMepf7f$"


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_dominant_colour_of_half_red_half_blue(fmt: str) -> None:
    left = solid((255, 0, 0), 30, 40)
    image = left.join(solid((0, 0, 255), 30, 40), "horizontal")
    rgb = hex_rgb(describe(encode(image, fmt)).dominant_color)
    assert close(rgb, (255, 0, 0), 8) or close(rgb, (0, 0, 255), 8)


def test_dominant_colour_of_quadrants_is_one_of_them() -> None:
    rgb = hex_rgb(describe(quadrant_bytes(64, 64)).dominant_color)
    assert any(close(rgb, colour, 8) for colour in QUADRANTS.values())


def test_not_an_image_is_refused() -> None:
    with pytest.raises(UnsupportedFormat):
        describe(b"hello, world")


def test_the_dominant_colour_is_the_largest_real_area(samples: Path) -> None:
    """The wisteria photo is mostly dark foliage with pink flowers: its dominant colour is the
    foliage's green (a 32-pixel thumbnail blended petals and white into a mauve that won)."""
    data = (samples / "photo-12mp-4000x3000.jpg").read_bytes()
    red, green, blue = hex_rgb(describe(data).dominant_color)
    assert green > red
    assert green > blue
    assert max(red, green, blue) < 128  # dark, as the leaves are
    summary = sample(data, sniff(data))
    assert max(summary.image.width, summary.image.height) == SAMPLE_SIZE
    assert (summary.image.bands, summary.image.format) == (3, "uchar")
    assert describe(data).placeholder == summary.placeholder
