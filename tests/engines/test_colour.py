"""Colour on load, on both engines: every kind of source comes out as untagged sRGB.

References are independent of the engine under test where one exists: the sRGB original a
wide-gamut file was made from, and ImageMagick's `convert` for CMYK (lcms with the same
sRGB profile, relative intent, for a tagged file; its plain `-colorspace sRGB` for an
untagged one). Tolerances are MAE in 0..255 per channel: 2 for a lossless path, 3 where a
resample or a JPEG stands between; a dropped or ignored profile is off by 8 and more.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import pyvips

from tests.images import QUADRANTS, decode, encode, near, pixel, quadrant_image
from tests.spine import Spine

LOSSLESS, RESAMPLED = 2.0, 3.0
ENCODE_OPTIONS: dict[str, dict[str, object]] = {"jpeg": {"Q": 95}, "webp": {"lossless": True}}


@pytest.fixture(scope="module")
def original(samples: Path) -> pyvips.Image:
    """A 240x180 sRGB photo (untagged), in memory."""
    path = samples / "photo-1mp-1200x900.jpg"
    return pyvips.Image.thumbnail(str(path), 240).copy_memory()


def mae(actual: bytes | pyvips.Image, expected: bytes | pyvips.Image) -> float:
    a = decode(actual) if isinstance(actual, bytes) else actual
    b = decode(expected) if isinstance(expected, bytes) else expected
    assert (a.width, a.height) == (b.width, b.height)
    a, b = (_on_white(i.colourspace("srgb")).cast("float") for i in (a, b))
    return float((a - b).abs().avg())


def _on_white(image: pyvips.Image) -> pyvips.Image:
    return image.flatten(background=[255, 255, 255]) if image.hasalpha() else image


def no_profile(data: bytes) -> bool:
    return not decode(data).get_typeof("icc-profile-data")


def im_png(convert: str, data: bytes, *args: str) -> bytes:
    return subprocess.run(
        [convert, "-", *args, "png:-"], input=data, capture_output=True, check=True
    ).stdout


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_a_wide_gamut_profile_is_converted_to_srgb(
    spine: Spine, original: pyvips.Image, fmt: str
) -> None:
    p3 = original.icc_transform("p3", input_profile="srgb")
    data = encode(p3, fmt, **ENCODE_OPTIONS.get(fmt, {}))
    assert mae(p3, original) > 8  # the tagged pixels themselves are far from sRGB
    out = spine(data, "format/png")
    assert mae(out, original) <= (LOSSLESS if fmt != "jpeg" else RESAMPLED)
    assert no_profile(out)
    shrunk = spine(data, "resize/120x/format/png")  # the shrink-on-load path
    assert mae(shrunk, original.resize(0.5)) <= RESAMPLED
    assert no_profile(shrunk)


def test_cmyk_without_a_profile_is_converted_as_imagemagick_does(
    spine: Spine, convert: str, original: pyvips.Image
) -> None:
    data = subprocess.run(
        [convert, "png:-", "-colorspace", "CMYK", "-quality", "95", "jpeg:-"],
        input=encode(original, "png"), capture_output=True, check=True,
    ).stdout  # fmt: skip
    assert decode(data).interpretation == "cmyk"
    reference = im_png(convert, data, "-colorspace", "sRGB")
    assert mae(spine(data, "format/png"), reference) <= LOSSLESS
    assert mae(spine(data, "format/png"), original) <= RESAMPLED
    shrunk = spine(data, "resize/120x/format/png")
    assert mae(shrunk, im_png(convert, data, "-colorspace", "sRGB", "-resize", "120x")) <= RESAMPLED


def test_cmyk_with_a_profile_goes_through_the_profile(
    spine: Spine, convert: str, original: pyvips.Image, tmp_path: Path
) -> None:
    data = encode(original.icc_transform("cmyk", input_profile="srgb"), "jpeg", Q=95)
    srgb = tmp_path / "srgb.icc"
    srgb.write_bytes(bytes(pyvips.Image.profile_load("srgb")))
    reference = im_png(convert, data, "-intent", "relative", "-profile", str(srgb))
    naive = im_png(convert, data, "-colorspace", "sRGB")
    assert mae(naive, reference) > 8  # ignoring the profile would show
    out = spine(data, "format/png")
    assert mae(out, reference) <= LOSSLESS
    assert no_profile(out)
    shrunk = spine(data, "resize/120x/format/png")
    assert mae(shrunk, decode(reference).resize(0.5)) <= RESAMPLED


def sixteen_bit(image: pyvips.Image) -> pyvips.Image:
    """`image` at 16 bits, with low bits set so that a clamping cast would show."""
    low = pyvips.Image.xyz(image.width, image.height)[0] % 200
    wide = (image.cast("ushort") * 257 + low).cast("ushort")
    return wide.copy(interpretation="grey16" if image.bands < 3 else "rgb16")


@pytest.mark.parametrize("kind", ["rgb", "rgba", "grey"])
def test_16_bit_is_scaled_to_8_bit(spine: Spine, original: pyvips.Image, kind: str) -> None:
    eight = original.colourspace("b-w") if kind == "grey" else original
    if kind == "rgba":
        eight = eight.bandjoin(pyvips.Image.xyz(240, 180)[0].cast("uchar"))
    data = encode(sixteen_bit(eight), "png")
    assert decode(data).format == "ushort"
    for path in ("flip/h/format/png", "resize/120x/format/png"):
        out = decode(spine(data, path))
        assert out.format == "uchar"
        expected = eight.fliphor() if path.startswith("flip") else eight.resize(0.5)
        assert mae(out, expected) <= (LOSSLESS if path.startswith("flip") else RESAMPLED)
        if kind == "rgba":
            assert abs(out(0, 10)[3] - (239 if path.startswith("flip") else 0)) <= 3


@pytest.mark.parametrize("alpha", [False, True], ids=["grey", "grey-alpha"])
def test_grey_becomes_srgb_frames(spine: Spine, original: pyvips.Image, alpha: bool) -> None:
    grey = original.colourspace("b-w")
    if alpha:
        grey = grey.bandjoin(pyvips.Image.xyz(240, 180)[0].cast("uchar"))
    data = encode(grey, "png")
    padded = decode(spine(data, "background/ff0000/pad/240x220/format/png"))
    assert near(pixel(padded, 120, 5), (255, 0, 0), tolerance=2)  # a red fill needs 3 bands
    if not alpha:
        assert near(pixel(padded, 120, 110), (grey(120, 90)[0],) * 3, tolerance=2)
    flipped = decode(spine(data, "flip/h/format/png"))
    assert mae(flipped, grey.fliphor()) <= LOSSLESS
    if alpha:
        assert flipped.hasalpha()
        assert abs(flipped(0, 5)[-1] - 239) <= 1
    assert mae(spine(data, "format/jpeg"), grey) <= RESAMPLED


@pytest.mark.parametrize("fmt", ["png", "gif"])
def test_palette_sources(spine: Spine, fmt: str) -> None:
    options = {"palette": True} if fmt == "png" else {}
    data = encode(quadrant_image(80, 60), fmt, **options)
    out = decode(spine(data, "flip/v/format/png"))
    assert near(pixel(out, 10, 50), QUADRANTS["nw"])
    assert near(pixel(out, 70, 10), QUADRANTS["se"])


def test_a_png_exif_orientation_is_applied(spine: Spine) -> None:
    """ImageMagick 6 ignores a PNG's eXIf chunk; the Wand engine applies it as libvips does."""
    image = quadrant_image(40, 30).copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", 6)
    out = decode(spine(bytes(image.write_to_buffer(".png")), "format/png"))
    assert (out.width, out.height) == (30, 40)
    assert near(pixel(out, 27, 2), QUADRANTS["nw"])  # the top-left corner turned to top-right
