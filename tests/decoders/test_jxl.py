"""JPEG XL through the shared decoder: upright, 8 or 16 bits, alpha kept, and a cut-off file
refused rather than decoded to grey (both engines agreeing: test_engines_agree.py)."""

from __future__ import annotations

from pathlib import Path

import imagecodecs
import numpy as np
import pytest

from images_server import decoders
from images_server.errors import UndecodableImage
from images_server.formats.sniff import sniff
from tests.hostile.corpus import jxl_container
from tests.images import QUADRANTS, decode, encode, near, pixel, quadrant_image


def test_the_recompressed_camera_jpeg_decodes_upright_as_the_jpeg(samples: Path) -> None:
    """The JPEG XL holds the JPEG's coefficients and its orientation 6: decoded, it is the
    JPEG decoded and turned upright (libjpeg and libjxl's IDCTs differ by a level or so)."""
    data = (samples / "jxl" / "camera-canon-3mp-orient6-recompressed.jxl").read_bytes()
    image = decoders.decode(data, sniff(data))
    assert (image.width, image.height, image.bands, image.format) == (1536, 2048, 3, "uchar")
    jpeg = decode((samples / "camera-canon-3mp-orient6.jpg").read_bytes()).autorot()
    assert (jpeg.width, jpeg.height) == (1536, 2048)
    assert (image.cast("float") - jpeg.cast("float")).abs().avg() < 1.5


def test_alpha_and_sixteen_bits_are_kept() -> None:
    rgba = quadrant_image(40, 30, alpha=True)
    image = decoders.decode(encode(rgba, "jxl"), sniff(encode(rgba, "jxl")))
    assert (image.bands, image.format, image.interpretation) == (4, "uchar", "srgb")
    assert near(pixel(image, 35, 25), (*QUADRANTS["se"], 230), tolerance=2)
    grey16 = np.arange(64 * 16, dtype=np.uint16).reshape(16, 64) * 60
    data = bytes(imagecodecs.jpegxl_encode(grey16, lossless=True))
    image = decoders.decode(data, sniff(data))
    assert (image.bands, image.format, image.interpretation) == (1, "ushort", "grey16")
    assert image(63, 15)[0] == 1023 * 60


def test_a_container_decodes_as_its_codestream() -> None:
    bare = encode(quadrant_image(40, 30), "jxl")
    boxed = jxl_container(bare, parts=3)
    assert (decoders.decode(boxed, sniff(boxed)) == decoders.decode(bare, sniff(bare))).min()


def test_a_cut_off_codestream_is_refused() -> None:
    data = encode(quadrant_image(200, 150), "jxl", Q=90)
    cut = data[: len(data) * 2 // 3]
    with pytest.raises(UndecodableImage, match="JPEG XL"):
        decoders.decode(cut, sniff(cut)).avg()
