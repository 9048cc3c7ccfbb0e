"""HEIC headers: sizes after `clap` and `irot`, grid canvases, alpha, image counts, on real
phone files (samples/heic) and on boxes built here; hostile headers are refused before any
decoder runs, and AVIF is still told apart exactly as before."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import pillow_heif
import pytest

from images_server.errors import TooManyPixels, UndecodableImage, UnsupportedFormat
from images_server.formats.sniff import SourceInfo, sniff, sniff_format
from images_server.ingest import check_header_limits
from images_server.settings import Settings
from tests.formats.test_sniff import ALPHA_URN, aux_c, box, full_box, ipma, irot, ispe

FAST = 0.5  # seconds

# name, displayed size, frames, alpha, canvas pixels (libheif's view: pillow-heif below)
SAMPLES = {
    "iphone13pro-grid-gps-4032x3024.heic": (4032, 3024, 1, False, 4096 * 3072),
    "iphone8plus-irot270-3024x4032.heic": (3024, 4032, 1, False, 3072 * 4096),
    "xiaomi-grid-2592x1944.heic": (2592, 1944, 1, False, 3072 * 2048),
    "alpha-10bit-clap-29x100.heif": (29, 100, 1, True, 64 * 100),
    "rgb-10bit-128x128.heif": (128, 128, 1, False, 0),
    "three-images-64x64.heic": (64, 64, 3, False, 0),
}


@pytest.mark.parametrize("name", SAMPLES)
def test_real_files_headers(samples: Path, name: str) -> None:
    data = (samples / "heic" / name).read_bytes()
    width, height, frames, alpha, canvas = SAMPLES[name]
    assert sniff(data) == SourceInfo("heic", width, height, 1, frames, alpha, canvas)
    assert sniff_format(data[:32]) == "heic"
    heif = pillow_heif.open_heif(data)  # libheif's header reading, the reference
    primary = heif[heif.primary_index]
    assert primary.size == (width, height)
    assert primary.has_alpha == alpha
    assert len(heif) == frames


# --- builders ------------------------------------------------------------------------------


def infe(item: int, kind: bytes, hidden: bool = False) -> bytes:
    return full_box(b"infe", struct.pack(">HH", item, 0) + kind + b"\x00", 2, int(hidden))


def iinf(*entries: bytes) -> bytes:
    return full_box(b"iinf", struct.pack(">H", len(entries)) + b"".join(entries))


def iref(*refs: tuple[bytes, int, list[int]]) -> bytes:
    body = b"".join(
        box(kind, struct.pack(">HH", source, len(to)) + b"".join(struct.pack(">H", t) for t in to))
        for kind, source, to in refs
    )
    return full_box(b"iref", body)


def heif(
    properties: list[bytes],
    associations: dict[int, list[int]],
    item_list: bytes = b"",
    refs: bytes = b"",
    primary: int = 1,
    brands: bytes = b"heicmif1",
    tail: bytes = b"",
) -> bytes:
    ftyp = box(b"ftyp", brands[:4] + b"\x00\x00\x00\x00" + brands)
    hdlr = full_box(b"hdlr", b"\x00" * 4 + b"pict" + b"\x00" * 13)
    pitm = full_box(b"pitm", struct.pack(">H", primary))
    iprp = box(b"iprp", box(b"ipco", b"".join(properties)) + ipma(associations))
    meta = full_box(b"meta", hdlr + pitm + item_list + refs + iprp)
    return ftyp + meta + tail + box(b"mdat", bytes(16))


def grid(tile: tuple[int, int], count: int, canvas: tuple[int, int]) -> bytes:
    """A grid primary (item 1) of `count` HEVC tiles (items 2...), all hidden."""
    tiles = list(range(2, 2 + count))
    items = iinf(infe(1, b"grid"), *(infe(t, b"hvc1", hidden=True) for t in tiles))
    associations = {1: [1], **{t: [2] for t in tiles}}
    return heif([ispe(*canvas), ispe(*tile)], associations, items, iref((b"dimg", 1, tiles)))


# --- sizes, canvas, alpha, frames ----------------------------------------------------------


TURNS = [(0, (30, 20)), (1, (20, 30)), (2, (30, 20)), (3, (20, 30))]


@pytest.mark.parametrize(("angle", "size"), TURNS)
def test_irot_quarter_turns_swap(angle: int, size: tuple[int, int]) -> None:
    data = heif([ispe(30, 20), irot(angle)], {1: [1, 2]}, iinf(infe(1, b"hvc1")))
    assert sniff(data) == SourceInfo("heic", *size)


def test_a_grid_canvas_counts_every_tile() -> None:
    data = grid((512, 512), 4, (1000, 1000))  # 2x2 tiles of 512 cover 1024x1024
    assert sniff(data) == SourceInfo("heic", 1000, 1000, canvas_pixels=4 * 512 * 512)


def test_alpha_is_an_auxl_item_of_the_primary_and_counts_in_the_canvas() -> None:
    items = iinf(infe(1, b"hvc1"), infe(2, b"hvc1", hidden=True))
    props = [ispe(30, 20), ispe(300, 200), aux_c(b"urn:mpeg:hevc:2015:auxid:1")]
    data = heif(props, {1: [1], 2: [2, 3]}, items, iref((b"auxl", 2, [1])))
    assert sniff(data) == SourceInfo("heic", 30, 20, has_alpha=True, canvas_pixels=60_000)


def test_alpha_of_another_image_is_not_the_primarys() -> None:
    items = iinf(infe(1, b"hvc1"), infe(2, b"hvc1"), infe(3, b"hvc1", hidden=True))
    props = [ispe(30, 20), aux_c(ALPHA_URN)]
    data = heif(props, {1: [1], 2: [1], 3: [1, 2]}, items, iref((b"auxl", 3, [2])))
    assert sniff(data) == SourceInfo("heic", 30, 20, frames=2)


def test_frames_count_top_level_images_not_thumbnails_or_hidden_ones() -> None:
    kinds = [infe(1, b"hvc1"), infe(2, b"hvc1"), infe(3, b"hvc1"), infe(4, b"hvc1", hidden=True)]
    refs = iref((b"thmb", 3, [1]))
    data = heif([ispe(30, 20)], {i: [1] for i in range(1, 5)}, iinf(*kinds), refs)
    assert sniff(data).frames == 2


def test_frames_of_an_image_sequence_are_its_samples() -> None:
    stsz = full_box(b"stsz", struct.pack(">II", 0, 250))
    moov = box(b"moov", box(b"trak", box(b"mdia", box(b"minf", box(b"stbl", stsz)))))
    data = heif([ispe(30, 20)], {1: [1]}, iinf(infe(1, b"hvc1")), brands=b"msf1hevc", tail=moov)
    info = sniff(data)
    assert info.frames == 250
    with pytest.raises(Exception, match="250 frames"):
        check_header_limits(Settings(), info)  # more than the 100 frames allowed


def test_a_sequence_without_a_still_image_is_unsupported() -> None:
    moov = box(b"moov", box(b"trak"))
    with pytest.raises(UnsupportedFormat):
        sniff(box(b"ftyp", b"msf1\x00\x00\x00\x00msf1hevc") + moov)


# --- which brands are HEIC, and AVIF unchanged ---------------------------------------------


@pytest.mark.parametrize("brand", [b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"])
def test_hevc_brands(brand: bytes) -> None:
    data = heif([ispe(30, 20)], {1: [1]}, iinf(infe(1, b"hvc1")), brands=brand + b"mif1")
    assert sniff_format(data) == "heic"
    assert sniff(data).format == "heic"


def test_mif1_alone_is_heic_when_the_primary_is_hevc_coded() -> None:
    hevc = heif([ispe(30, 20)], {1: [1]}, iinf(infe(1, b"hvc1")), brands=b"mif1miaf")
    assert sniff(hevc).format == "heic"
    assert sniff_format(hevc[:32]) is None  # the item type is past the first 32 bytes
    tiles = grid((16, 16), 2, (32, 16)).replace(b"heicmif1", b"mif1miaf", 1)
    assert sniff(tiles).format == "heic"
    other = heif([ispe(30, 20)], {1: [1]}, iinf(infe(1, b"jpeg")), brands=b"mif1miaf")
    with pytest.raises(UnsupportedFormat):
        sniff(other)


def test_an_avif_brand_wins_whatever_else_is_listed() -> None:
    data = heif([ispe(30, 20)], {1: [1]}, iinf(infe(1, b"av01")), brands=b"avifmif1heic")
    assert sniff_format(data) == "avif"
    assert sniff(data).format == "avif"


# --- hostile headers: refused by the header alone --------------------------------------------


def test_an_ispe_bomb_is_refused_before_decoding() -> None:
    data = heif([ispe(100_000, 100_000)], {1: [1]}, iinf(infe(1, b"hvc1")))
    start = time.perf_counter()
    info = sniff(data)
    with pytest.raises(TooManyPixels):
        check_header_limits(Settings(), info)
    assert time.perf_counter() - start < FAST
    assert len(data) < 300  # a header and 16 bytes of mdat: nothing a decoder could use


def test_a_grid_whose_tiles_are_a_bomb_is_refused() -> None:
    info = sniff(grid((8192, 8192), 16, (100, 100)))  # shows 100x100, holds 1 Gpx
    assert info.canvas_pixels == 16 * 8192 * 8192
    with pytest.raises(TooManyPixels):
        check_header_limits(Settings(), info)


def test_a_huge_alpha_plane_is_refused() -> None:
    items = iinf(infe(1, b"hvc1"), infe(2, b"hvc1", hidden=True))
    props = [ispe(30, 20), ispe(60_000, 60_000), aux_c(ALPHA_URN)]
    info = sniff(heif(props, {1: [1], 2: [2, 3]}, items, iref((b"auxl", 2, [1]))))
    with pytest.raises(TooManyPixels):
        check_header_limits(Settings(), info)


def cut_in_meta(data: bytes) -> bytes:
    return data[: data.index(b"iprp") + 10]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(
            heif([box(b"free")] * 10_001, {1: [1]}, iinf(infe(1, b"hvc1"))),
            "HEIC has too many boxes",
            id="over-the-box-budget",
        ),
        pytest.param(
            heif([b"\x00\x00\x00\x04free", ispe(30, 20)], {1: [2]}),
            "HEIC box .* cut off or corrupt",
            id="box-of-size-4",
        ),
        pytest.param(
            cut_in_meta(heif([ispe(30, 20)], {1: [1]}, iinf(infe(1, b"hvc1")))),
            "no complete meta",
            id="cut-inside-meta",
        ),
        pytest.param(
            heif([ispe(0, 20)], {1: [1]}, iinf(infe(1, b"hvc1"))), "empty image", id="ispe-0"
        ),
        pytest.param(
            grid((16, 16), 2, (32, 16)).replace(ispe(16, 16), box(b"free", bytes(12))),
            "grid tile 2 has no image extent",
            id="tile-without-ispe",
        ),
        pytest.param(
            heif([ispe(30, 20)], {1: [1]}, iinf(infe(1, b"grid")), iref((b"dimg", 1, [1] * 3)))
            .replace(b"dimg\x00\x01\x00\x03", b"dimg\x00\x01\xff\xff"),
            "truncated HEIC iref",
            id="iref-count-past-its-data",
        ),
    ],
)  # fmt: skip
def test_hostile_boxes_are_undecodable(data: bytes, message: str) -> None:
    start = time.perf_counter()
    with pytest.raises(UndecodableImage, match=message):
        sniff(data)
    assert time.perf_counter() - start < FAST


@pytest.mark.parametrize("keep", [0.02, 0.3, 0.6, 0.9999])
def test_a_file_cut_off_in_its_image_data_is_refused_by_its_header(
    samples: Path, keep: float
) -> None:
    """libheif decodes a grid whose tiles are missing without a word: the iloc extents of
    the primary's tiles, past the end of the file, tell the cut before any decoder runs."""
    data = (samples / "heic" / "xiaomi-grid-2592x1944.heic").read_bytes()
    with pytest.raises(UndecodableImage, match="cut off"):
        sniff(data[: int(len(data) * keep)])


def test_a_file_cut_off_in_its_header_is_refused(samples: Path) -> None:
    data = (samples / "heic" / "xiaomi-grid-2592x1944.heic").read_bytes()
    with pytest.raises(UndecodableImage, match="no complete meta"):
        sniff(data[:200])


def test_an_hevc_brand_without_a_meta_box_is_undecodable_heic() -> None:
    data = box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic") + bytes(32)
    assert sniff_format(data) == "heic"
    with pytest.raises(UndecodableImage, match="no complete meta"):
        sniff(data)
