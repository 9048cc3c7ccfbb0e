"""JPEG XL headers: the SizeHeader and ImageMetadata fields read bit by bit, in a bare
codestream and in a container (one `jxlc` box, or `jxlp` parts), and hostile headers."""

from __future__ import annotations

import struct
from pathlib import Path

import imagecodecs
import numpy as np
import pytest

from fuzz.seeds import seeds
from images_server.errors import UndecodableImage
from images_server.formats.sniff import SourceInfo, sniff, sniff_format

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "jxl"


def bits(*fields: tuple[int, int]) -> bytes:
    """`(value, width)` fields packed least significant bit first, as JPEG XL does."""
    value, position = 0, 0
    for field, width in fields:
        value |= field << position
        position += width
    return value.to_bytes((position + 7) // 8 + 1, "little")


def codestream(width: int, height: int, *metadata: tuple[int, int]) -> bytes:
    """A codestream header: SizeHeader (U32 selector 3: 30 bits) and then `metadata`."""
    size = ((0, 1), (3, 2), (height - 1, 30), (0, 3), (3, 2), (width - 1, 30))
    return b"\xff\x0a" + bits(*size, *(metadata or ((1, 1),)))


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


CONTAINER = b"\x00\x00\x00\x0cJXL \r\n\x87\n" + box(b"ftyp", b"jxl \x00\x00\x00\x00jxl ")


def test_bare_codestream_from_libjxl() -> None:
    data = bytes(imagecodecs.jpegxl_encode(np.zeros((30, 50, 3), np.uint8), level=90))
    assert sniff_format(data[:32]) == "jxl"
    assert sniff(data) == SourceInfo("jxl", 50, 30)


def test_alpha_is_read_from_the_extra_channels() -> None:
    data = bytes(imagecodecs.jpegxl_encode(np.zeros((7, 9, 4), np.uint8), lossless=True))
    assert sniff(data) == SourceInfo("jxl", 9, 7, has_alpha=True)
    grey_alpha = bytes(imagecodecs.jpegxl_encode(np.zeros((7, 9, 2), np.uint8), lossless=True))
    assert sniff(grey_alpha).has_alpha


def test_sixteen_bit_grey() -> None:
    data = bytes(imagecodecs.jpegxl_encode(np.zeros((5, 300), np.uint16), lossless=True))
    assert sniff(data) == SourceInfo("jxl", 300, 5)


def test_container_with_jxlp_parts_and_orientation() -> None:
    """The recompressed camera JPEG: its codestream starts in an 11-byte `jxlp` part, and
    orientation 6 turns the stored 2048x1536 upright."""
    data = (SAMPLES / "camera-canon-3mp-orient6-recompressed.jxl").read_bytes()
    assert data.count(b"jxlp") == 2
    assert sniff(data) == SourceInfo("jxl", 1536, 2048)


def test_container_with_one_jxlc_box() -> None:
    stream = codestream(640, 480)
    assert sniff(CONTAINER + box(b"jxlc", stream)) == SourceInfo("jxl", 640, 480)


@pytest.mark.parametrize(
    ("orientation", "size"), [(1, (640, 480)), (5, (480, 640)), (8, (480, 640)), (4, (640, 480))]
)
def test_orientation_transposes(orientation: int, size: tuple[int, int]) -> None:
    # not all default, extra fields, orientation, no intrinsic size, preview or animation
    metadata = ((0, 1), (1, 1), (orientation - 1, 3), (0, 1), (0, 1), (0, 1), (0, 1), (0, 2))
    info = sniff(codestream(640, 480, *metadata, (0, 1), (0, 2)))
    assert (info.width, info.height, info.orientation) == (*size, 1)


def test_animation_reads_as_frames() -> None:
    animation = ((0, 2), (0, 2), (0, 2), (0, 1))  # 100/1 ticks, loops forever, no timecodes
    metadata = ((0, 1), (1, 1), (0, 3), (0, 1), (0, 1), (1, 1), *animation, (0, 1), (0, 2))
    assert sniff(codestream(64, 64, *metadata, (1, 1), (0, 2))).frames == 2


def test_small_size_and_ratio() -> None:
    # small: height (5 bits + 1) * 8 = 64, ratio 7 (2:1): width 128
    data = b"\xff\x0a" + bits((1, 1), (7, 5), (7, 3), (1, 1))
    assert sniff(data) == SourceInfo("jxl", 128, 64)


def test_header_bomb_is_read_not_refused_here() -> None:
    """100000 x 100000 is a valid header: ingest refuses it by its pixels (tests/http)."""
    assert sniff(codestream(100_000, 100_000)).pixels == 10**10


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\x0a",
        b"\xff\x0a\x00",
        codestream(640, 480)[:6],
        CONTAINER,
        CONTAINER + box(b"jxlc", b"")[: -0 or None],
        CONTAINER + struct.pack(">I", 4000) + b"jxlc" + b"\xff\x0a",
        CONTAINER + box(b"jxlp", b"\x00\x00\x00"),
    ],
)
def test_cut_off_headers_are_undecodable(data: bytes) -> None:
    with pytest.raises(UndecodableImage, match="JPEG XL"):
        sniff(data)


def test_too_many_extra_channels() -> None:
    metadata = ((0, 1), (0, 1), (0, 1), (0, 2), (1, 1), (3, 2), (4000, 12))
    with pytest.raises(UndecodableImage, match="extra channels"):
        sniff(codestream(8, 8, *metadata))


def test_box_budget_bounds_a_container_walk() -> None:
    data = CONTAINER + box(b"free", b"") * 20_000 + box(b"jxlc", codestream(8, 8))
    with pytest.raises(UndecodableImage, match="JPEG XL"):
        sniff(data)


def test_the_fuzzer_is_seeded_with_valid_jxl() -> None:
    found = seeds()
    assert sniff(found["valid-jxl"]) == SourceInfo("jxl", 64, 48)
    assert found["valid-jxl-container"].count(b"jxlp") == 2
    assert sniff(found["valid-jxl-container"]) == SourceInfo("jxl", 64, 48)
