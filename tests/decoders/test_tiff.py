"""TIFF through the shared decoder: the first page, upright, CMYK and 16-bit brought to
what the web formats hold, and large pages reduced before they are handed on (both engines
agreeing on every sample: test_engines_agree.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvips

from images_server import decoders
from images_server.decoders.target import Target
from images_server.errors import UndecodableImage
from images_server.formats.sniff import sniff
from tests.engines.test_contract import mae
from tests.hostile.corpus import tiff, tiff_page
from tests.images import decode, encode, near, pixel, quadrant_image
from tests.spine import make_spine


def test_cmyk_is_converted_through_its_profile(engine_name: str) -> None:
    srgb = quadrant_image(64, 48)
    cmyk = srgb.icc_transform("cmyk")  # libvips' built-in CMYK profile, embedded
    data = encode(cmyk, "tiff")
    assert pyvips.Image.new_from_buffer(data, "").interpretation == "cmyk"

    managed = cmyk.icc_transform("srgb", embedded=True)  # CMYK cannot hold pure red or green

    body = make_spine(engine_name)(data, "format/png")

    for corner, (x, y) in {"nw": (8, 8), "ne": (56, 8), "se": (56, 40), "sw": (8, 40)}.items():
        expected = tuple(round(v) for v in managed(x, y))
        assert near(pixel(body, x, y), expected, tolerance=4), corner


def test_sixteen_bits_come_out_as_the_eight_bit_picture() -> None:
    image = quadrant_image(64, 48, alpha=True)
    wide = (image.cast("ushort") * 257).cast("ushort").copy(interpretation="rgb16")

    decoded, info = decoders.decodable(encode(wide, "tiff"), sniff(encode(wide, "tiff")))

    assert info.format == "png"
    assert info.has_alpha
    png = pyvips.Image.new_from_buffer(decoded, "")
    assert (png.format, png.bands) == ("ushort", 4)  # PNG keeps all 16 bits
    assert mae(make_spine("vips")(encode(wide, "tiff"), "format/png"), encode(image, "png")) < 1


def test_orientation_is_applied_once(samples: Path) -> None:
    data = (samples / "tiff" / "g4_orientation_6.tif").read_bytes()
    stored = pyvips.Image.tiffload_buffer(data)
    assert (stored.width, stored.height) == (88, 590)

    upright = decoders.decode(data, sniff(data))

    assert (upright.width, upright.height) == (590, 88)
    assert upright.avg() == pytest.approx(stored.rot90().avg())


def test_only_the_first_page_is_decoded() -> None:
    red = pyvips.Image.black(20, 10).new_from_image([255, 0, 0]).cast("uchar")
    blue = pyvips.Image.black(20, 10).new_from_image([0, 0, 255]).cast("uchar")
    strip = red.copy(interpretation="srgb").join(blue, "vertical")
    strip.set_type(pyvips.GValue.gint_type, "page-height", 10)
    data = encode(strip, "tiff")
    assert sniff(data).frames == 2

    body = make_spine("wand")(data, "format/png")

    image = decode(body)
    assert (image.width, image.height) == (20, 10)
    assert near(pixel(image, 10, 5), (255, 0, 0), tolerance=2)


def test_a_large_page_is_reduced_to_twice_the_target_before_the_engines() -> None:
    data = encode(quadrant_image(4000, 3000), "tiff", compression="lzw")

    _, reduced = decoders.decodable(data, sniff(data), Target(400, 300))
    _, whole = decoders.decodable(data, sniff(data), None)

    assert (reduced.width, reduced.height) == (800, 600)
    assert (whole.width, whole.height) == (4000, 3000)


def test_a_strip_past_the_end_of_the_file_is_undecodable() -> None:
    page = tiff_page(10, 10)
    page[273], page[279] = (4, 100_000), (4, 300)  # StripOffsets past the end, 300 bytes
    data = tiff([page])
    info = sniff(data)  # the header is fine

    with pytest.raises(UndecodableImage):
        decoders.check(data, info)
