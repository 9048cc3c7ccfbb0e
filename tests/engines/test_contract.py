"""The engine contract: every engine, every op, against ImageMagick's own `convert`.

Both engines render through the real spine and are compared with what `convert` makes of
the same source: the size must be identical and the pixels close, by mean absolute error
(MAE, 0..255 per channel) of at most `MAE_LIMIT`. Resamplers differ a little between
libvips and ImageMagick (and a `jpeg:size` decode differs from a full decode), which is why
the tolerance is not zero; a wrong flip, rotation or crop gives an MAE of 40 and more.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pillow_heif
import pytest
import pyvips

from images_server.formats.sniff import sniff
from tests.images import (
    QUADRANTS,
    SAMPLES,
    decode,
    encode,
    heic,
    near,
    pixel,
    quadrant_bytes,
    quadrant_image,
)
from tests.spine import Spine

MAE_LIMIT = 4.0


def im(convert: str, source: Path | bytes, *args: str) -> bytes:
    """What ImageMagick makes of `source` with `args`, as PNG."""
    src = "-" if isinstance(source, bytes) else str(source)
    stdin = source if isinstance(source, bytes) else None
    done = subprocess.run(
        [convert, src, *args, "png:-"], input=stdin, capture_output=True, check=True
    )
    return done.stdout


def mae(actual: bytes, expected: bytes) -> float:
    a, b = decode(actual), decode(expected)
    assert (a.width, a.height) == (b.width, b.height)
    if a.hasalpha() or b.hasalpha():
        a = a.flatten(background=[255, 255, 255]) if a.hasalpha() else a
        b = b.flatten(background=[255, 255, 255]) if b.hasalpha() else b
    bands = min(a.bands, b.bands)
    return float((a[:bands].cast("float") - b[:bands].cast("float")).abs().avg())


PHOTO_CASES = [
    ("resize/200x", ["-resize", "200x"]),
    ("resize/x120", ["-resize", "x120"]),
    ("resize/300x300", ["-resize", "300x300"]),
    ("resize/300x100!", ["-resize", "300x100!"]),
    ("resize/2000x2000>", ["-resize", "2000x2000>"]),
    ("resize/200x200^", ["-resize", "200x200^"]),
    ("resize/25%", ["-resize", "25%"]),
    ("resize/@40000", ["-resize", "@40000"]),
    ("resize/1500x1500<", ["-resize", "1500x1500<"]),
    ("crop/nw300x200", ["-gravity", "NorthWest", "-crop", "300x200+0+0", "+repage"]),
    ("crop/se300x200", ["-gravity", "SouthEast", "-crop", "300x200+0+0", "+repage"]),
    ("crop/300x200", ["-gravity", "Center", "-crop", "300x200+0+0", "+repage"]),
    ("crop/e2000x100", ["-gravity", "East", "-crop", "2000x100+0+0", "+repage"]),
    ("crop/100x80+30+40", ["-crop", "100x80+30+40", "+repage"]),
    ("rotate/90", ["-rotate", "90"]),
    ("rotate/270", ["-rotate", "270"]),
    ("rotate/180", ["-rotate", "180"]),
    ("flip/h", ["-flop"]),
    ("flip/v", ["-flip"]),
    ("flip/hv", ["-flop", "-flip"]),
    ("resize/400x/crop/s200x100/flip/h", ["-resize", "400x", "-gravity", "South", "-crop",
                                         "200x100+0+0", "+repage", "-flop"]),
]  # fmt: skip


@pytest.mark.parametrize(("path", "im_args"), PHOTO_CASES, ids=[c[0] for c in PHOTO_CASES])
def test_op_matches_imagemagick(
    spine: Spine, convert: str, samples: Path, path: str, im_args: list[str]
) -> None:
    source = samples / "photo-1mp-1200x900.jpg"
    ours = spine(source.read_bytes(), f"{path}/format/png")
    assert mae(ours, im(convert, source, *im_args)) <= MAE_LIMIT


def test_rotate_any_angle_fills_with_white_for_jpeg(spine: Spine, convert: str) -> None:
    data = quadrant_bytes(200, 100, "png")
    ours = spine(data, "rotate/30/format/jpeg")
    reference = im(convert, data, "-background", "white", "-rotate", "30")
    assert mae(ours, reference) <= MAE_LIMIT * 2  # JPEG noise on hard colour edges
    assert min(decode(ours)(0, 0)[:3]) > 230  # the corner is background, white


def test_rotate_any_angle_is_transparent_where_the_format_allows(spine: Spine) -> None:
    out = decode(spine(quadrant_bytes(200, 100, "png"), "rotate/30"))
    assert out.hasalpha()
    assert out(0, 0)[3] == 0
    assert out(out.width // 2, out.height // 2)[3] == 255


def test_exif_orientation_is_applied_first(spine: Spine, convert: str, samples: Path) -> None:
    source = samples / "camera-canon-3mp-orient6.jpg"
    ours = spine(source.read_bytes(), "resize/300x/format/png")
    assert mae(ours, im(convert, source, "-auto-orient", "-resize", "300x")) <= MAE_LIMIT
    assert decode(ours).height == 400  # upright: 1536x2048 scaled to 300 wide


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "avif", "gif", "jxl"])
def test_every_output_format(spine: Spine, samples: Path, fmt: str) -> None:
    source = (samples / "photo-1mp-1200x900.jpg").read_bytes()
    out = spine(source, f"resize/240x/format/{fmt}")
    info = sniff(out)
    assert (info.format, info.width, info.height) == (fmt, 240, 180)
    reference = pyvips.Image.thumbnail_buffer(source, 240).write_to_buffer(".png")
    assert mae(out, reference) <= (12 if fmt == "gif" else 6)  # GIF has 256 colours


def test_quality_changes_the_encoding(spine: Spine, samples: Path) -> None:
    source = (samples / "photo-1mp-1200x900.jpg").read_bytes()
    low = spine(source, "resize/400x/quality/20")
    high = spine(source, "resize/400x/quality/95")
    assert sniff(low).format == "jpeg"
    assert len(low) * 2 < len(high)


def test_jpeg_output_of_alpha_is_flattened_on_white(spine: Spine, samples: Path) -> None:
    out = decode(spine((samples / "dice-alpha-300x225.png").read_bytes(), "format/jpeg"))
    assert out.bands == 3
    assert min(out(2, 2)) > 240  # a transparent corner of the dice becomes white


def test_alpha_survives_png_and_webp(spine: Spine, samples: Path) -> None:
    source = (samples / "dice-alpha-300x225.png").read_bytes()
    for fmt in ("png", "webp"):
        out = decode(spine(source, f"resize/150x/format/{fmt}"))
        assert out.hasalpha()
        assert out(1, 1)[3] < 10


def test_no_exif_leaves_in_a_variant(spine: Spine, samples: Path) -> None:
    source = (samples / "camera-iphone-8mp-3264x2448.jpg").read_bytes()
    assert any("GPS" in field for field in decode(source).get_fields())
    out = spine(source, "resize/200x")
    assert b"Exif\0\0" not in out
    assert not [field for field in decode(out).get_fields() if field.startswith("exif")]


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "avif", "gif", "tiff", "jxl"])
def test_every_input_format(spine: Spine, fmt: str) -> None:
    source = encode(quadrant_image(160, 120), fmt)
    out = decode(spine(source, "resize/80x/crop/se20x20/format/png"))
    assert (out.width, out.height) == (20, 20)
    assert near(pixel(out, 10, 10), QUADRANTS["se"])


def test_heic_input(spine: Spine) -> None:
    source = heic(quadrant_image(160, 120))
    out = decode(spine(source, "resize/80x/crop/se20x20/format/png"))
    assert (out.width, out.height) == (20, 20)
    assert near(pixel(out, 10, 10), QUADRANTS["se"])


def test_heic_alpha_input(spine: Spine) -> None:
    out = decode(spine(heic(quadrant_image(160, 120, alpha=True)), "resize/80x"))
    assert (out.width, out.height, out.hasalpha()) == (80, 60, True)
    assert pixel(out, 0, 30)[3] < 10
    assert pixel(out, 79, 30)[3] > 245


@pytest.fixture(scope="module")
def heic_photo() -> tuple[bytes, bytes]:
    """The 1 MP sample as HEIC, and libheif's own decode of it as PNG (ImageMagick's input)."""
    photo = pyvips.Image.new_from_file(str(SAMPLES / "photo-1mp-1200x900.jpg"))
    data = heic(photo)
    decoded = pillow_heif.open_heif(data)[0].to_pillow()
    reference = pyvips.Image.new_from_memory(
        decoded.tobytes(), decoded.width, decoded.height, 3, "uchar"
    )
    return data, bytes(reference.write_to_buffer(".png"))


@pytest.mark.parametrize(("path", "im_args"), PHOTO_CASES, ids=[c[0] for c in PHOTO_CASES])
def test_op_on_heic_matches_imagemagick(
    spine: Spine, convert: str, heic_photo: tuple[bytes, bytes], path: str, im_args: list[str]
) -> None:
    """Every op on a HEIC source, against ImageMagick's result on libheif's own decode."""
    data, decoded = heic_photo
    ours = spine(data, f"{path}/format/png")
    assert mae(ours, im(convert, decoded, *im_args)) <= MAE_LIMIT


def test_a_jxl_source_renders_as_its_decoded_pixels(
    spine: Spine, convert: str, samples: Path
) -> None:
    """A JPEG XL upload (decoded once by the shared decoder for both engines) gives what
    `convert` makes of its decoded pixels, as a PNG: ImageMagick here reads no JPEG XL."""
    source = (samples / "jxl" / "photo-1mp-1200x900-q75.jxl").read_bytes()
    pixels = decode(source).write_to_buffer(".png")
    path, args = "resize/300x/crop/se200x100/rotate/90", ["-resize", "300x", "-gravity",
        "SouthEast", "-crop", "200x100+0+0", "+repage", "-rotate", "90"]  # fmt: skip
    out = spine(source, f"{path}/format/png")
    assert sniff(out).width == 100
    assert mae(out, im(convert, pixels, *args)) <= MAE_LIMIT


ONE_OF_EACH_OP = [
    "resize/90x",
    "crop/se60x40",
    "crop/smart60x40",
    "rotate/30",
    "flip/hv",
    "quality/50",
    "blur/2",
    "sharpen/2",
    "filter/sepia",
    "background/ff0000/rotate/15",
    "pad/150x150",
    "preset/thumb",
    "dpr/2/resize/40x",
]
LOSSY_LIMIT = {"jpeg": 6.0, "webp": 6.0, "avif": 8.0, "gif": 12.0, "png": 0.0, "jxl": 6.0}


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "avif", "gif", "jxl"])
@pytest.mark.parametrize("path", ONE_OF_EACH_OP)
def test_every_op_in_every_format(spine: Spine, path: str, fmt: str) -> None:
    """The same op gives the same size in every format, and the pixels of its PNG output up
    to the format's own loss. (Alpha across formats is tested above and in tests/golden: a
    gradient alpha cannot survive GIF's one-bit transparency or JPEG's flattening.)"""
    source = encode(quadrant_image(120, 90), "png")
    reference = spine(source, f"{path}/format/png")
    out = spine(source, f"{path}/format/{fmt}")
    info = sniff(out)
    assert info.format == fmt
    assert (info.width, info.height) == (decode(reference).width, decode(reference).height)
    assert mae(out, reference) <= LOSSY_LIMIT[fmt]


# Inputs the shared decoders read (images_server/decoders): the same contract, against what
# ImageMagick's own CLI (which reads TIFF itself) makes of the same file.
SHARED_INPUT_CASES = [
    ("tiff/tiff_strip_planar_lzw.tiff", "resize/120x", ["-resize", "120x"]),
    ("tiff/tiff_strip_planar_lzw.tiff", "crop/se100x80/flip/v", ["-gravity", "SouthEast",
     "-crop", "100x80+0+0", "+repage", "-flip"]),
    ("tiff/hopper.tif", "rotate/90/resize/64x64!", ["-rotate", "90", "-resize", "64x64!"]),
    ("tiff/tiff_tiled_ycbcr_jpeg_2x2_sampling.tif", "resize/200x100^/crop/200x100",
     ["-resize", "200x100^", "-gravity", "Center", "-crop", "200x100+0+0", "+repage"]),
    ("tiff/g4_orientation_6.tif", "resize/300x", ["-auto-orient", "-resize", "300x"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "path", "im_args"),
    SHARED_INPUT_CASES,
    ids=[f"{c[0]}:{c[1]}" for c in SHARED_INPUT_CASES],
)
def test_shared_decoder_inputs_match_imagemagick(
    spine: Spine, convert: str, samples: Path, name: str, path: str, im_args: list[str]
) -> None:
    source = samples / name
    ours = spine(source.read_bytes(), f"{path}/format/png")
    assert mae(ours, im(convert, source, *im_args)) <= MAE_LIMIT
