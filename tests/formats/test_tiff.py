"""TIFF headers: the first page's displayed size, alpha and orientation, the page count, and
the walks that refuse loops, overlong chains and strips or tiles too large to hold."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest

from images_server.errors import UndecodableImage
from images_server.formats.sniff import SourceInfo, sniff, sniff_format
from images_server.formats.tiff import MAX_BLOCK_BYTES, check_blocks
from tests.hostile.corpus import tiff, tiff_page
from tests.images import encode, quadrant_image

W, H = 40, 30


def _written(**options: object) -> bytes:
    return encode(quadrant_image(W, H), "tiff", **options)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"compression": "lzw"},
        {"compression": "deflate", "predictor": "horizontal"},
        {"compression": "jpeg"},
        {"tile": True, "tile_width": 16, "tile_height": 16},
        {"bigtiff": True},
        {"pyramid": True, "tile": True},  # several IFDs: pages
    ],
    ids=["raw", "lzw", "deflate", "jpeg", "tiled", "bigtiff", "pyramid"],
)
def test_libvips_written_tiffs_give_their_size(options: dict[str, object]) -> None:
    data = _written(**options)

    info = sniff(data)

    assert sniff_format(data[:32]) == "tiff"
    assert (info.format, info.width, info.height, info.has_alpha) == ("tiff", W, H, False)


def test_alpha_and_sixteen_bits() -> None:
    image = (quadrant_image(W, H, alpha=True).cast("ushort") * 257).cast("ushort")
    data = encode(image.copy(interpretation="rgb16"), "tiff")

    assert sniff(data) == SourceInfo("tiff", W, H, has_alpha=True)


def test_a_big_endian_tiff(convert: str) -> None:
    done = subprocess.run(
        [
            convert,
            "-size",
            f"{W}x{H}",
            "xc:red",
            "-define",
            "tiff:endian=msb",
            "-alpha",
            "on",
            "tiff:-",
        ],
        capture_output=True,
        check=True,
    )
    assert done.stdout[:4] == b"MM\x00*"
    assert sniff(done.stdout) == SourceInfo("tiff", W, H, has_alpha=True)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_gives_the_upright_size(orientation: int) -> None:
    page = tiff_page(W, H)
    page[274] = (3, orientation)

    info = sniff(tiff([page]))

    expected = (H, W) if orientation >= 5 else (W, H)
    assert (info.width, info.height, info.orientation) == (*expected, orientation)


def test_pages_are_counted_and_only_the_first_is_measured() -> None:
    info = sniff(tiff([tiff_page(W, H), tiff_page(9000, 9000), tiff_page(1, 1)]))

    assert (info.width, info.height, info.frames) == (W, H, 3)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (tiff([tiff_page(1, 1)] * 3, loop=True), "loop"),
        (tiff([tiff_page(1, 1)] * 1001), "more than 1000 pages"),
        (b"II*\x00" + struct.pack("<IH", 8, 0) + bytes(8), "0 entries"),
        (b"II*\x00" + struct.pack("<I", 4) + bytes(16), "header"),
        (b"II+\x00" + struct.pack("<HHQ", 4, 0, 16) + bytes(16), "offset size"),
        (tiff([tiff_page(0, 10)]), "empty image"),
        (tiff([tiff_page(10, 10, samples=99)]), "samples"),
        (tiff([tiff_page(10, 10, bits=7)]), "bits"),
        (b"II*\x00" + struct.pack("<I", 1_000_000), "cut off"),
    ],
    ids=[
        "loop",
        "pages",
        "no-entries",
        "ifd-in-header",
        "bigtiff-offsets",
        "empty",
        "samples",
        "bits",
        "ifd-past-end",
    ],
)
def test_broken_headers_are_undecodable(data: bytes, message: str) -> None:
    with pytest.raises(UndecodableImage, match=message):
        sniff(data)


def test_a_tile_far_larger_than_its_image_is_refused_before_libtiff_sees_it() -> None:
    page = tiff_page(10, 10)
    page[322], page[323] = (4, 65536), (4, 65536)  # one tile: 12 GB of RGB
    data = tiff([page])
    assert sniff(data).pixels == 100  # the pixel limits cannot see it

    with pytest.raises(UndecodableImage, match="strips or tiles"):
        check_blocks(data)


def test_a_strip_of_wide_samples_over_the_block_limit_is_refused() -> None:
    data = tiff([tiff_page(16000, 3000, samples=8, bits=64)])
    with pytest.raises(UndecodableImage, match=str(MAX_BLOCK_BYTES)):
        check_blocks(data)
    check_blocks(tiff([tiff_page(16000, 3000, rows_per_strip=16)]))  # strips of 16 rows: fine


SAMPLE_SIZES = {
    "hopper.tif": SourceInfo("tiff", 128, 128),
    "hopper_bigtiff.tif": SourceInfo("tiff", 128, 128),
    "hopper.iccprofile.tif": SourceInfo("tiff", 128, 128),
    "tiff_strip_planar_lzw.tiff": SourceInfo("tiff", 278, 374),
    "tiff_tiled_ycbcr_jpeg_2x2_sampling.tif": SourceInfo("tiff", 480, 360),
    "tiff_tiled_cmyk_jpeg.tif": SourceInfo("tiff", 100, 100),
    "tiff_16bit_RGBa.tiff": SourceInfo("tiff", 100, 40, has_alpha=True),
    "g4_orientation_6.tif": SourceInfo("tiff", 590, 88, orientation=6),
    "multipage.tiff": SourceInfo("tiff", 10, 10, frames=3),
}


@pytest.mark.parametrize(("name", "expected"), SAMPLE_SIZES.items(), ids=SAMPLE_SIZES.keys())
def test_real_tiffs(samples: Path, name: str, expected: SourceInfo) -> None:
    data = (samples / "tiff" / name).read_bytes()

    assert sniff(data) == expected
    check_blocks(data)
