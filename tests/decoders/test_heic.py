"""The HEIC decoder (pillow-heif): the primary image upright, with alpha, 10-bit as 16-bit,
its ICC profile and EXIF; cut-off and corrupt files refused; and both engines rendering the
same pixels from it."""

from __future__ import annotations

from pathlib import Path

import pillow_heif
import pytest
import pyvips

from images_server import decoders
from images_server.errors import UndecodableImage
from images_server.formats.sniff import sniff
from tests.spine import make_spine

MAE = 2.0  # mean absolute error, in 8-bit levels, allowed between two renders


def load(samples: Path, name: str) -> bytes:
    return (samples / "heic" / name).read_bytes()


def mae(a: pyvips.Image, b: pyvips.Image) -> float:
    assert (a.width, a.height, a.bands) == (b.width, b.height, b.bands)
    return float((a.cast("double") - b.cast("double")).abs().avg())


def reference(data: bytes) -> pyvips.Image:
    """libheif's own decode through pillow-heif's Pillow path (8 bits, transforms applied)."""
    heif = pillow_heif.open_heif(data)
    image = heif[heif.primary_index].to_pillow()
    bands = len(image.getbands())
    return pyvips.Image.new_from_memory(image.tobytes(), image.width, image.height, bands, "uchar")


@pytest.mark.parametrize(
    ("name", "size", "bands", "fmt"),
    [
        ("iphone13pro-grid-gps-4032x3024.heic", (4032, 3024), 3, "uchar"),
        ("iphone8plus-irot270-3024x4032.heic", (3024, 4032), 3, "uchar"),
        ("alpha-10bit-clap-29x100.heif", (29, 100), 4, "ushort"),
        ("rgb-10bit-128x128.heif", (128, 128), 3, "ushort"),
        ("three-images-64x64.heic", (64, 64), 1, "uchar"),
    ],
)
def test_decodes_the_primary_upright(
    samples: Path, name: str, size: tuple[int, int], bands: int, fmt: str
) -> None:
    data = load(samples, name)
    image = decoders.decode(data, sniff(data))
    assert (image.width, image.height, image.bands, image.format) == (*size, bands, fmt)
    assert image.hasalpha() == (bands in (2, 4))
    assert image.interpretation in ("srgb", "rgb16", "b-w", "grey16")
    expected = reference(data)
    got = (image >> 8).cast("uchar") if fmt == "ushort" else image
    assert mae(got, expected) < MAE


def test_irot_is_applied_by_libheif(samples: Path) -> None:
    """The iPhone 8 Plus file is stored landscape with irot 270: it decodes portrait, and
    its EXIF orientation (6) is not applied a second time anywhere."""
    data = load(samples, "iphone8plus-irot270-3024x4032.heic")
    image = decoders.decode(data, sniff(data))
    assert (image.width, image.height) == (3024, 4032)
    assert not image.get_typeof("orientation")
    assert not image.get_typeof("exif-ifd0-Orientation")
    thumb = decoders.thumbnail(data, sniff(data), 96)
    assert (thumb.width, thumb.height) == (72, 96)


def test_icc_profile_and_exif_are_kept_for_metadata(samples: Path) -> None:
    data = load(samples, "iphone13pro-grid-gps-4032x3024.heic")
    image = decoders.header(data, sniff(data))
    assert len(image.get("icc-profile-data")) > 500
    assert image.get("exif-ifd0-Model").startswith("iPhone 13 Pro")
    assert image.get_typeof("exif-ifd3-GPSLatitude")  # there: /metadata must filter it


def test_10_bit_fills_16_bits(samples: Path) -> None:
    data = load(samples, "rgb-10bit-128x128.heif")
    image = decoders.decode(data, sniff(data))
    assert image.interpretation == "rgb16"
    assert image.max() > 60_000  # scaled, not 0..1023


def test_corrupt_image_data_is_undecodable(samples: Path) -> None:
    data = bytearray(load(samples, "rgb-10bit-128x128.heif"))
    mdat = data.index(b"mdat")
    data[mdat + 4 :] = bytes(len(data) - mdat - 4)  # the coded picture zeroed
    with pytest.raises(UndecodableImage):
        decoders.check(bytes(data), sniff(bytes(data)))


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("iphone8plus-irot270-3024x4032.heic", "resize/300x/format/png"),
        ("xiaomi-grid-2592x1944.heic", "resize/240x240^/crop/240x240/format/png"),
        ("alpha-10bit-clap-29x100.heif", "resize/58x/format/png"),
        ("rgb-10bit-128x128.heif", "rotate/90/format/png"),
    ],
)
def test_both_engines_give_the_same_pixels(samples: Path, name: str, path: str) -> None:
    data = load(samples, name)
    vips = pyvips.Image.new_from_buffer(make_spine("vips")(data, path), "")
    wand = pyvips.Image.new_from_buffer(make_spine("wand")(data, path), "")
    assert mae(vips, wand) < MAE
