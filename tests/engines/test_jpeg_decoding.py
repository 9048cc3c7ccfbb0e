"""How the libvips engine decodes a JPEG that shrinks (`engines.vips.engine._load`).

A large JPEG (1 MP or more) is decoded at libjpeg's largest scale, up to 1/4, that covers the
output; a small one shrunk by less than 4 (as derivative copies are read) is decoded whole and
then resized, which gives exactly `thumbnail`'s pixels; anything else is `thumbnail`'s. Plain
JPEGs decoded so go through libjpeg-turbo's own API (`engines.vips.turbo`), to the same pixels.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import pyvips

from bench.ssim import ssim
from images_server.engines.vips import turbo
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


def test_turbojpeg_is_installed() -> None:
    """scripts/install-system-deps.sh installs it; without it JPEGs decode slower, not wrong."""
    assert turbo.library() is not None


def _jpeg(image: pyvips.Image, keep: str = "none", **options: object) -> bytes:
    return bytes(image.jpegsave_buffer(Q=90, keep=keep, **options))


@pytest.fixture(scope="module")
def photo(samples: Path) -> pyvips.Image:
    return pyvips.Image.new_from_file(str(samples / "photo-12mp-4000x3000.jpg")).copy_memory()


@pytest.mark.parametrize("size", [(1000, 750), (1001, 751), (1007, 1005), (999, 750)])
@pytest.mark.parametrize("scale", [1, 2, 4])
@pytest.mark.parametrize("kind", ["baseline 4:2:0", "progressive 4:4:4", "grey"])
def test_turbo_decodes_a_plain_jpeg_to_libvips_own_pixels(
    photo: pyvips.Image, size: tuple[int, int], scale: int, kind: str
) -> None:
    """libjpeg-turbo's TurboJPEG API and libvips' loader give the same pixels, scaled or
    not; odd sizes scale to libvips' (rounded down) size."""
    image = photo.resize(size[0] / photo.width, vscale=size[1] / photo.height)
    if kind == "grey":
        data = _jpeg(image.colourspace("b-w"))
    elif kind.startswith("progressive"):
        data = _jpeg(image, interlace=True, subsample_mode="off")
    else:
        data = _jpeg(image, subsample_mode="on")
    head = pyvips.Image.new_from_buffer(data, "")
    decoded = turbo.decode_scaled(data, head, scale)
    reference = pyvips.Image.new_from_buffer(data, "", shrink=scale)
    assert decoded is not None
    assert (decoded.width, decoded.height, decoded.bands) == (
        reference.width,
        reference.height,
        reference.bands,
    )
    assert decoded.interpretation == reference.interpretation
    assert (decoded - reference).abs().max() == 0


def test_turbo_leaves_every_other_jpeg_to_libvips(photo: pyvips.Image, samples: Path) -> None:
    small = photo.resize(0.1)
    tagged = small.icc_transform("srgb", input_profile="srgb")  # carries sRGB's profile
    declined = {
        "an ICC profile": _jpeg(tagged, keep="icc"),
        "an EXIF orientation": (samples / "camera-canon-3mp-orient6.jpg").read_bytes(),
        "CMYK": _jpeg(small.colourspace("cmyk")),
    }
    for why, data in declined.items():
        head = pyvips.Image.new_from_buffer(data, "")
        assert turbo.decode_scaled(data, head, 2) is None, why
    big = _jpeg(photo)  # 12 MP: held whole at 1/1, over MAX_PIXELS
    assert turbo.decode_scaled(big, pyvips.Image.new_from_buffer(big, ""), 1) is None
    assert turbo.decode_scaled(big, pyvips.Image.new_from_buffer(big, ""), 2) is not None
    cut = _jpeg(small)[:2000]  # truncated: libvips' own handling applies
    assert turbo.decode_scaled(cut, pyvips.Image.new_from_buffer(cut, ""), 1) is None


def test_turbo_reuses_its_decompressors_across_threads(photo: pyvips.Image) -> None:
    """Renders run on threads of their own: a handle per thread would be one more per render."""
    data = _jpeg(photo.resize(0.1))
    head = pyvips.Image.new_from_buffer(data, "")
    library = turbo.library()
    assert library is not None
    for _ in range(20):
        thread = threading.Thread(target=turbo.decode_scaled, args=(data, head, 1))
        thread.start()
        thread.join()
    assert len(library._free) <= 2  # one in use at a time (plus any a parallel test left)
