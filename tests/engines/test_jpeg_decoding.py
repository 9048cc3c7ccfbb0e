"""How the libvips engine decodes a JPEG that shrinks (`engines.vips.engine._load`).

A large JPEG (1 MP or more) is decoded at libjpeg's largest scale, up to 1/4, that covers the
output; a small one shrunk by less than 4 (as derivative copies are read) is decoded whole and
then resized, which gives exactly `thumbnail`'s pixels; anything else is `thumbnail`'s.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvips

from bench.ssim import ssim
from tests.spine import make_spine


def _pixels(data: bytes) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(data, "")


@pytest.fixture(scope="module")
def small_jpeg(samples: Path) -> bytes:
    """A 1000x750 JPEG (under 1 MP), as the 12 MP photo's ¼ derivative copy is."""
    photo = pyvips.Image.thumbnail(str(samples / "photo-12mp-4000x3000.jpg"), 1000)
    return bytes(photo.jpegsave_buffer(Q=95, subsample_mode="on", keep="none"))


@pytest.mark.parametrize("size", [(800, 600), (640, 480), (400, 300), (300, 200), (260, 195)])
def test_a_small_jpeg_decoded_whole_has_thumbnails_pixels(
    small_jpeg: bytes, size: tuple[int, int]
) -> None:
    width, height = size
    rendered = _pixels(make_spine("vips")(small_jpeg, f"resize/{width}x{height}!/format/png"))
    reference = pyvips.Image.thumbnail_buffer(small_jpeg, width, height=height, size="force")
    assert (rendered.width, rendered.height) == (width, height)
    assert (rendered - reference).abs().max() == 0


def test_a_large_jpeg_is_decoded_at_a_libjpeg_scale_close_to_a_full_decode(
    samples: Path,
) -> None:
    data = (samples / "photo-1mp-1200x900.jpg").read_bytes()  # 1/4 covers 300x200
    rendered = _pixels(make_spine("vips")(data, "resize/300x200^/crop/300x200/format/png"))
    full = pyvips.Image.new_from_buffer(data, "").resize(1 / 4).crop(0, 12, 300, 200)
    assert (rendered.width, rendered.height) == (300, 200)
    assert ssim(rendered, full) >= 0.99
