"""`sniff`: format and displayed size from the header alone, and nothing else ever raised.

Real images are made at test time with libvips (and ImageMagick's `convert` where libvips
cannot make the variant); libvips' own header read is the reference wherever it has one.
Hostile inputs are built byte by byte, and hypothesis throws random and mutated headers.
"""

from __future__ import annotations

import struct
import subprocess
import time
import zlib
from functools import cache
from pathlib import Path
from typing import NamedTuple

import pytest
import pyvips
from hypothesis import given, settings
from hypothesis import strategies as st

from images_server.errors import UndecodableImage, UnsupportedFormat
from images_server.formats import MEDIA_TYPES, ImageFormat
from images_server.formats.sniff import SourceInfo, sniff, sniff_format
from tests.images import decode, encode, quadrant_image

W, H = 37, 23  # odd and unequal, so a swapped width and height shows
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FAST = 0.5  # seconds: every header here is read in well under a millisecond


# --- builders ---------------------------------------------------------------------------


def with_orientation(orientation: int) -> pyvips.Image:
    image = quadrant_image(W, H).copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    return image


def animated(fmt: str, frames: int) -> bytes:
    pages = [
        quadrant_image(W, H).rot180() if i % 2 else quadrant_image(W, H) for i in range(frames)
    ]
    strip = pyvips.Image.arrayjoin(pages, across=1).copy()
    strip.set_type(pyvips.GValue.gint_type, "page-height", H)
    strip.set_type(pyvips.GValue.array_int_type, "delay", [100] * frames)
    return encode(strip, fmt)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body).to_bytes(4, "big")
    return len(body).to_bytes(4, "big") + kind + body + crc


def png_header(width: int, height: int, colour_type: int = 6) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return PNG_SIGNATURE + png_chunk(b"IHDR", ihdr)


def box(kind: bytes, body: bytes = b"") -> bytes:
    return (8 + len(body)).to_bytes(4, "big") + kind + body


def full_box(kind: bytes, body: bytes, version: int = 0, flags: int = 0) -> bytes:
    return box(kind, bytes([version]) + flags.to_bytes(3, "big") + body)


def ispe(width: int, height: int) -> bytes:
    return full_box(b"ispe", struct.pack(">II", width, height))


def irot(angle: int) -> bytes:
    return box(b"irot", bytes([angle]))


def aux_c(urn: bytes) -> bytes:
    return full_box(b"auxC", urn + b"\x00")


ALPHA_URN = b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha"


def ipma(associations: dict[int, list[int]]) -> bytes:
    entries = b"".join(
        struct.pack(">HB", item, len(indices)) + bytes(indices)
        for item, indices in associations.items()
    )
    return full_box(b"ipma", struct.pack(">I", len(associations)) + entries)


def avif(
    properties: list[bytes],
    associations: dict[int, list[int]] | bytes | None = None,
    primary: int | None = 1,
    brands: bytes = b"avifmif1miaf",
) -> bytes:
    """A minimal AVIF: ftyp, meta (hdlr, pitm, iprp > ipco, ipma), and an empty mdat.

    `associations` maps item IDs to 1-based ipco indices, or is a ready-made ipma box.
    """
    ftyp = box(b"ftyp", brands[:4] + b"\x00\x00\x00\x00" + brands)
    hdlr = full_box(b"hdlr", b"\x00" * 4 + b"pict" + b"\x00" * 13)
    pitm = full_box(b"pitm", struct.pack(">H", primary)) if primary is not None else b""
    ipco = box(b"ipco", b"".join(properties))
    if associations is None:
        associations = b""
    elif isinstance(associations, dict):
        associations = ipma(associations)
    iprp = box(b"iprp", ipco + associations)
    return ftyp + full_box(b"meta", hdlr + pitm + iprp) + box(b"mdat", b"\x00" * 16)


def run_convert(convert: str, *args: str) -> bytes:
    done = subprocess.run([convert, *args], capture_output=True, check=True)
    return done.stdout


def outcome(data: bytes) -> SourceInfo | type[Exception]:
    try:
        return sniff(data)
    except (UnsupportedFormat, UndecodableImage) as exc:
        return type(exc)


# --- what libvips writes ------------------------------------------------------------------


class Case(NamedTuple):
    fmt: ImageFormat
    alpha: bool  # whether the source image has an alpha band
    options: dict[str, object]  # save options
    has_alpha: bool  # what sniff must say
    first_chunk: bytes | None = None  # for WebP: the variant the options must produce


GENERATED: dict[str, Case] = {
    "jpeg": Case("jpeg", False, {}, False),
    "png-rgb": Case("png", False, {}, False),
    "png-rgba": Case("png", True, {}, True),
    "webp-vp8": Case("webp", False, {"keep": "none"}, False, b"VP8 "),
    "webp-vp8x-alpha": Case("webp", True, {"keep": "none"}, True, b"VP8X"),
    "webp-vp8x-exif": Case("webp", False, {}, False, b"VP8X"),
    "webp-vp8l": Case("webp", False, {"lossless": True, "keep": "none"}, False, b"VP8L"),
    "webp-vp8l-alpha": Case("webp", True, {"lossless": True, "keep": "none"}, True, b"VP8L"),
    # libvips' GIF writer always declares a transparent index, and its reader honours it
    "gif": Case("gif", False, {}, True),
    "avif-rgb": Case("avif", False, {}, False),
    "avif-alpha": Case("avif", True, {}, True),
}


@cache
def generated(name: str) -> bytes:
    case = GENERATED[name]
    return encode(quadrant_image(W, H, alpha=case.alpha), case.fmt, **case.options)


@pytest.mark.parametrize("name", GENERATED)
def test_generated_images(name: str) -> None:
    case, data = GENERATED[name], generated(name)
    if case.first_chunk is not None:
        assert data[12:16] == case.first_chunk

    info = sniff(data)

    assert info == SourceInfo(case.fmt, W, H, has_alpha=case.has_alpha)
    assert info.has_alpha == decode(data).hasalpha()
    assert info.pixels == W * H
    assert sniff_format(data[:32]) == case.fmt
    assert sniff_format(data) == case.fmt


def test_media_types_cover_every_format() -> None:
    assert MEDIA_TYPES == {
        "jpeg": "image/jpeg",
        "png": "image/png",
        "webp": "image/webp",
        "gif": "image/gif",
        "avif": "image/avif",
        "heic": "image/heic",
        "tiff": "image/tiff",
        "jxl": "image/jxl",
        "svg": "image/svg+xml",
    }


@pytest.mark.parametrize("fmt", ["jpeg", "webp", "png"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_gives_the_upright_size(fmt: str, orientation: int) -> None:
    data = encode(with_orientation(orientation), fmt)

    info = sniff(data)

    expected = (H, W) if orientation >= 5 else (W, H)
    assert info.orientation == orientation
    assert (info.width, info.height) == expected
    upright = decode(data).autorot()
    assert (upright.width, upright.height) == expected


@pytest.mark.parametrize("orientation", range(1, 9))
def test_avif_irot_gives_the_upright_size(orientation: int) -> None:
    data = encode(with_orientation(orientation), "avif")

    info = sniff(data)

    # libheif applies irot/imir itself, so there is no orientation left for anyone to apply
    assert info.orientation == 1
    assert (info.width, info.height) == ((H, W) if orientation >= 5 else (W, H))
    loaded = decode(data)
    assert (info.width, info.height) == (loaded.width, loaded.height)


@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_animation_frames_are_counted(fmt: str) -> None:
    data = animated(fmt, 4)

    info = sniff(data)

    assert (info.format, info.width, info.height, info.frames) == (fmt, W, H, 4)
    assert decode(data).get("n-pages") == 4


def test_apng_frames_come_from_actl() -> None:
    png = encode(quadrant_image(W, H), "png")
    actl = png_chunk(b"acTL", struct.pack(">II", 5, 0))
    apng = png[:33] + actl + png[33:]

    assert sniff(apng).frames == 5


def test_png_trns_after_idat_is_not_alpha() -> None:
    png = encode(quadrant_image(W, H), "png")
    iend = png.rindex(b"IEND") - 4
    late = png[:iend] + png_chunk(b"tRNS", b"\x00\x00\x00\x00\x00\x00") + png[iend:]

    assert sniff(late).has_alpha is False


# --- what ImageMagick writes -------------------------------------------------------------


def test_gif87a_without_transparency(convert: str) -> None:
    data = run_convert(convert, "-size", f"{W}x{H}", "xc:red", "gif87:-")

    assert data[:6] == b"GIF87a"
    assert sniff(data) == SourceInfo("gif", W, H)


def test_gif_frames_written_by_imagemagick(convert: str) -> None:
    data = run_convert(convert, "-size", f"{W}x{H}", "xc:red", "xc:blue", "xc:lime", "gif:-")

    assert sniff(data).frames == 3


def test_palette_png_with_trns_has_alpha(convert: str) -> None:
    data = run_convert(convert, "-size", f"{W}x{H}", "xc:red", "-transparent", "red", "png8:-")

    assert data[25] == 3  # a palette image: the alpha is only in its tRNS chunk
    assert b"tRNS" in data
    assert sniff(data) == SourceInfo("png", W, H, has_alpha=True)


@pytest.mark.parametrize(
    ("args", "marker"),
    [
        pytest.param(["-interlace", "Plane"], b"\xff\xc2", id="progressive"),
        pytest.param(["-colorspace", "CMYK"], b"\xff\xc0", id="cmyk"),
    ],
)
def test_jpeg_variants(convert: str, args: list[str], marker: bytes) -> None:
    data = run_convert(convert, "-size", f"{W}x{H}", "xc:red", *args, "jpeg:-")

    assert marker in data
    assert sniff(data) == SourceInfo("jpeg", W, H)


def test_other_formats_written_by_imagemagick_are_unsupported(convert: str) -> None:
    data = run_convert(convert, "-size", f"{W}x{H}", "xc:red", "bmp:-")

    assert sniff_format(data) is None
    with pytest.raises(UnsupportedFormat):
        sniff(data)


def test_a_tiff_written_by_imagemagick_is_sniffed(convert: str) -> None:
    data = run_convert(convert, "-size", f"{W}x{H}", "xc:red", "tiff:-")

    assert sniff_format(data) == "tiff"
    assert sniff(data) == SourceInfo("tiff", W, H)


# --- real photos -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("camera-canon-3mp-orient6.jpg", SourceInfo("jpeg", 1536, 2048, orientation=6)),
        ("camera-iphone-8mp-3264x2448.jpg", SourceInfo("jpeg", 3264, 2448)),
        ("photo-1mp-1200x900.jpg", SourceInfo("jpeg", 1200, 900)),
        ("dice-alpha-300x225.png", SourceInfo("png", 300, 225, has_alpha=True)),
    ],
)
def test_real_photos(samples: Path, name: str, expected: SourceInfo) -> None:
    data = (samples / name).read_bytes()

    info = sniff(data)

    assert info == expected
    upright = decode(data).autorot()
    assert (upright.width, upright.height) == (info.width, info.height)


# --- refused -----------------------------------------------------------------------------

UNSUPPORTED = {
    "empty": b"",
    "text": b"hello",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
    "svg-xml": b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
    "bmp": b"BM" + struct.pack("<IHHI", 70, 0, 0, 54) + struct.pack("<Iii", 40, 1, 1),
    "heic": box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic") + b"\x00" * 32,
    "mif1-only": box(b"ftyp", b"mif1\x00\x00\x00\x00mif1miaf") + b"\x00" * 32,
    "mp4": box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2avc1mp41"),
    "riff-wave": b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00",
    "gif-unknown-version": b"GIF88a" + b"\x01\x00\x01\x00\x00\x00\x00",
    "png-half-signature": PNG_SIGNATURE[:6],
    "jpeg-soi-only": b"\xff\xd8",
}


@pytest.mark.parametrize("data", UNSUPPORTED.values(), ids=UNSUPPORTED.keys())
def test_unsupported_formats(data: bytes) -> None:
    assert sniff_format(data) is None
    with pytest.raises(UnsupportedFormat):
        sniff(data)


# Length of the magic that names the format: shorter cuts cannot be told apart from others.
TRUNCATION_SAMPLES = {
    "jpeg": 3,
    "png-rgba": 8,
    "gif": 6,
    "gif-animated": 6,
    "webp-vp8": 12,
    "webp-vp8l-alpha": 12,
    "webp-vp8x-alpha": 12,
    "webp-animated": 12,
    "avif-alpha": 12,
}


def truncation_sample(name: str) -> bytes:
    if name.endswith("-animated"):
        return animated(name.removesuffix("-animated"), 3)
    return generated(name)


@pytest.mark.parametrize(("name", "magic"), TRUNCATION_SAMPLES.items())
def test_every_cut_before_the_header_ends_is_undecodable(name: str, magic: int) -> None:
    data = truncation_sample(name)
    full = sniff(data)
    outcomes = [outcome(data[:cut]) for cut in range(len(data) + 1)]
    header_end = next(n for n, o in enumerate(outcomes) if isinstance(o, SourceInfo))

    assert magic < header_end < len(data)
    assert outcomes[:magic] == [UnsupportedFormat] * magic
    assert outcomes[magic:header_end] == [UndecodableImage] * (header_end - magic)
    in_image_data = png_image_data_cuts(data) if full.format == "png" else set()
    for cut, later in enumerate(outcomes[header_end:], start=header_end):
        if cut in in_image_data:  # a PNG cut in IDAT lost pixels: undecodable, not cut short
            assert later is UndecodableImage
            continue
        assert isinstance(later, SourceInfo)
        assert (later.format, later.width, later.height) == (full.format, W, H)


def png_image_data_cuts(data: bytes) -> set[int]:
    """The lengths that cut `data` inside an IDAT chunk whose header is whole."""
    cuts: set[int] = set()
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        if data[pos + 4 : pos + 8] == b"IDAT":
            cuts.update(range(pos + 8, pos + 12 + length))
        pos += 12 + length
    return cuts


def test_header_ends_where_the_format_says() -> None:
    def header_end(data: bytes) -> int:
        return next(n for n in range(len(data)) if isinstance(outcome(data[:n]), SourceInfo))

    jpeg, png, gif = generated("jpeg"), generated("png-rgba"), generated("gif")
    assert header_end(jpeg) == jpeg.index(b"\xff\xc0") + 9  # through SOF0's width
    assert header_end(png) == 26  # through IHDR's colour type
    colour_table = 3 << ((gif[10] & 7) + 1)
    assert header_end(gif) == gif.index(b",", 13 + colour_table) + 10  # a whole descriptor


# --- bombs: declared sizes are reported, never believed ------------------------------------


def jpeg_bomb() -> bytes:
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, 65535, 65535, 3)
    return b"\xff\xd8" + sof + bytes([1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]) + b"\xff\xd9"


def gif_bomb() -> bytes:
    screen = b"GIF89a" + struct.pack("<HHBBB", 65535, 65535, 0, 0, 0)
    return screen + b"," + struct.pack("<HHHHB", 0, 0, 65535, 65535, 0) + b"\x02\x00;"


def webp(chunk: bytes) -> bytes:
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def webp_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + b"\x00" * (len(body) & 1)


def vp8x(width: int, height: int, flags: int = 0) -> bytes:
    canvas = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return webp_chunk(b"VP8X", bytes([flags, 0, 0, 0]) + canvas)


BOMBS = {
    "png": (png_header(65535, 65535) + png_chunk(b"IEND", b""), 65535, 65535),
    "jpeg": (jpeg_bomb(), 65535, 65535),
    "gif": (gif_bomb(), 65535, 65535),
    "webp-vp8": (
        webp(webp_chunk(b"VP8 ", b"\x10\x02\x00\x9d\x01\x2a\xff\x3f\xff\x3f")),
        16383,
        16383,
    ),
    "webp-vp8l": (webp(webp_chunk(b"VP8L", b"\x2f\xff\xff\xff\x0f")), 16384, 16384),
    "webp-vp8x": (webp(vp8x(2**24, 2**24)), 2**24, 2**24),
    "avif": (avif([ispe(2**32 - 1, 2**32 - 1)], {1: [1]}), 2**32 - 1, 2**32 - 1),
}


@pytest.mark.parametrize(("data", "width", "height"), BOMBS.values(), ids=BOMBS.keys())
def test_bomb_headers_report_the_declared_size_fast(data: bytes, width: int, height: int) -> None:
    start = time.perf_counter()
    info = sniff(data)
    elapsed = time.perf_counter() - start

    assert (info.width, info.height, info.pixels) == (width, height, width * height)
    assert elapsed < FAST


CORRUPT = {
    "png-zero-width": (png_header(0, 10), "empty image"),
    "png-width-2^31": (png_header(2**31, 10), "PNG header is corrupt"),
    "png-bad-colour-type": (png_header(10, 10, colour_type=5), "PNG header is corrupt"),
    "png-no-ihdr": (PNG_SIGNATURE + png_chunk(b"tEXt", b"a\x00b"), "IHDR"),
    "jpeg-zero-height": (
        jpeg_bomb().replace(b"\xff\xff\xff\xff", b"\x00\x00\xff\xff"),
        "empty image",
    ),
    "jpeg-short-sof": (b"\xff\xd8\xff\xc0\x00\x05\x08\x00\x10", "too short"),
    "jpeg-scan-first": (b"\xff\xd8\xff\xda\x00\x02\xff\xd9", "no frame header"),
    "jpeg-length-1": (b"\xff\xd8\xff\xe0\x00\x01", "impossible length"),
    "jpeg-no-markers": (b"\xff\xd8\xff" + b"\x00" * 100, "ends before"),
    "gif-no-image": (gif_bomb()[:13] + b";", "no image"),
    "gif-0x0": (b"GIF89a" + b"\x00" * 7 + b"," + b"\x00" * 9 + b"\x02\x00;", "has no pixels"),
    "webp-vp8-inter-frame": (
        webp(webp_chunk(b"VP8 ", b"\x11\x02\x00\x9d\x01\x2a\x10\x00\x10\x00")),
        "key frame",
    ),
    "webp-vp8-zero-width": (
        webp(webp_chunk(b"VP8 ", b"\x10\x02\x00\x9d\x01\x2a\x00\x00\x10\x00")),
        "empty image",
    ),
    "webp-vp8l-signature": (webp(webp_chunk(b"VP8L", b"\x2e\x00\x00\x00\x00")), "corrupt"),
    "webp-vp8l-version": (webp(webp_chunk(b"VP8L", b"\x2f\x00\x00\x00\x20")), "corrupt"),
    "webp-alph-first": (webp(webp_chunk(b"ALPH", b"\x00" * 10)), "image chunk"),
    "webp-short-vp8x": (webp(webp_chunk(b"VP8X", b"\x00" * 6)), "too short"),
    "webp-animation-without-frames": (webp(vp8x(10, 10, flags=0x02)), "no frame"),
    "avif-zero-width": (avif([ispe(0, 10)], {1: [1]}), "empty image"),
    "avif-no-ispe": (avif([], {}), "no image extent"),
    "avif-no-meta": (box(b"ftyp", b"avif\x00\x00\x00\x00avif") + box(b"mdat"), "no complete meta"),
}


@pytest.mark.parametrize(("data", "message"), CORRUPT.values(), ids=CORRUPT.keys())
def test_corrupt_headers_are_undecodable(data: bytes, message: str) -> None:
    with pytest.raises(UndecodableImage, match=message):
        sniff(data)


# --- structure: JPEG segments, GIF blocks, WebP chunks, AVIF boxes ---------------------------


def test_jpeg_skips_fill_bytes_standalone_markers_and_stray_bytes() -> None:
    noise = b"\xff" * 1_000_000 + b"\xff\xd0\xff\x01" + b"junk\x00\xff\x00"
    data = jpeg_bomb()[:2] + noise + jpeg_bomb()[2:]

    start = time.perf_counter()
    assert sniff(data).width == 65535
    assert time.perf_counter() - start < FAST


def test_jpeg_long_ff_run_without_a_marker_is_refused_fast() -> None:
    data = b"\xff\xd8" + b"\xff" * 1_000_000 + b"\x00"  # a backtracking regex would take hours

    start = time.perf_counter()
    with pytest.raises(UndecodableImage, match="ends before"):
        sniff(data)
    assert time.perf_counter() - start < FAST


def test_jpeg_exif_with_broken_offsets_keeps_orientation_1() -> None:
    tiff = b"MM\x00*" + struct.pack(">I", 0xFFFFFF00)
    app1 = b"\xff\xe1" + struct.pack(">H", 2 + 6 + len(tiff)) + b"Exif\x00\x00" + tiff

    info = sniff(jpeg_bomb()[:2] + app1 + jpeg_bomb()[2:])

    assert info.orientation == 1


def test_jpeg_segment_walk_is_bounded() -> None:
    comments = b"\xff\xfe\x00\x02" * 5000

    with pytest.raises(UndecodableImage, match="too many"):
        sniff(b"\xff\xd8" + comments + jpeg_bomb()[2:])


def test_png_chunk_walk_is_bounded() -> None:
    chunks = png_chunk(b"tEXt", b"") * 10_001

    with pytest.raises(UndecodableImage, match="too many"):
        sniff(png_header(10, 10) + chunks)


def test_png_chunk_claiming_4_gib_ends_the_walk() -> None:
    data = png_header(10, 20, colour_type=2) + b"\xff\xff\xff\xfftEXt" + b"\x00" * 8

    assert sniff(data) == SourceInfo("png", 10, 20)


def test_every_gif_frame_grows_the_decoded_size_not_the_displayed_one() -> None:
    """Frames are clipped to the logical screen, but decoders grow their canvas to hold a
    frame, so the largest extent is what costs memory (a 1x1 first frame followed by a
    65535x65535 one must not pass as 1x1)."""
    screen = b"GIF89a" + struct.pack("<HHBBB", 10, 10, 0, 0, 0)
    frame = b"," + struct.pack("<HHHHB", 5, 5, 100, 50, 0) + b"\x02\x00"

    info = sniff(screen + frame + frame.replace(b"d\x00", b"\xff\x00") + b";")

    assert (info.width, info.height, info.frames) == (10, 10, 2)
    assert info.decoded_pixels == 260 * 55


def test_gif_with_an_empty_screen_is_the_size_of_its_frames() -> None:
    screen = b"GIF89a" + struct.pack("<HHBBB", 0, 0, 0, 0, 0)
    frame = b"," + struct.pack("<HHHHB", 0, 0, 30, 20, 0) + b"\x02\x00"
    assert sniff(screen + frame + b";") == SourceInfo("gif", 30, 20)


def test_gif_counts_frames_up_to_a_cut_or_garbage() -> None:
    data = animated("gif", 3)
    last = data.rindex(b"!\xf9\x04") + 8  # the descriptor after the last graphic control
    assert data[last] == 0x2C

    assert sniff(data[: last + 5]).frames == 2  # third descriptor incomplete
    assert sniff(data[: last + 12]).frames == 3  # third image data cut short
    assert sniff(data[:last] + b"\x99" + data[last + 1 :]).frames == 2


def test_gif_block_walk_is_bounded() -> None:
    sub_blocks = b"\x01\x00" * 1_100_000

    start = time.perf_counter()
    with pytest.raises(UndecodableImage, match="too many"):
        sniff(gif_bomb()[:-3] + b"\x02" + sub_blocks)
    assert time.perf_counter() - start < 10 * FAST


def test_webp_chunk_walk_is_bounded() -> None:
    chunks = webp_chunk(b"XMP ", b"") * 100_001

    with pytest.raises(UndecodableImage, match="too many"):
        sniff(webp(vp8x(10, 10) + chunks))


def test_webp_exif_chunk_orientation_swaps_the_canvas() -> None:
    tiff = b"II*\x00\x08\x00\x00\x00\x01\x00" + struct.pack("<HHII", 0x0112, 3, 1, 8)
    data = webp(vp8x(30, 20, flags=0x08) + webp_chunk(b"EXIF", tiff + b"\x00\x00\x00\x00"))

    assert sniff(data) == SourceInfo("webp", 20, 30, orientation=8)


def test_avif_primary_item_is_used_not_the_largest() -> None:
    data = avif([ispe(640, 480), ispe(32, 16)], {1: [1], 2: [2]}, primary=2)

    assert sniff(data) == SourceInfo("avif", 32, 16)


def test_avif_without_pitm_falls_back_to_the_largest_extent() -> None:
    data = avif([ispe(32, 16), ispe(640, 480), irot(1)], {1: [1], 2: [2, 3]}, primary=None)

    assert sniff(data) == SourceInfo("avif", 480, 640)


@pytest.mark.parametrize(("angle", "swapped"), [(0, False), (1, True), (2, False), (3, True)])
def test_avif_irot_quarter_turns_swap(angle: int, swapped: bool) -> None:
    data = avif([ispe(30, 20), irot(angle)], {1: [0x81, 2]})  # essential bit on ispe

    info = sniff(data)

    assert (info.width, info.height) == ((20, 30) if swapped else (30, 20))


def test_avif_alpha_auxiliary_and_wide_ipma() -> None:
    pitm = full_box(b"pitm", struct.pack(">I", 7), version=1)
    ipma_v1 = full_box(b"ipma", struct.pack(">IIBHH", 1, 7, 2, 0x8001, 3), version=1, flags=1)
    ipco = box(b"ipco", ispe(64, 48) + aux_c(ALPHA_URN) + irot(3))
    meta = full_box(b"meta", pitm + box(b"iprp", ipco + ipma_v1))
    data = box(b"ftyp", b"avis\x00\x00\x00\x00msf1avis") + meta

    assert sniff(data) == SourceInfo("avif", 48, 64, has_alpha=True)
    assert sniff_format(data) == "avif"


def test_avif_largesize_and_size_zero_boxes() -> None:
    plain = avif([ispe(30, 20)], {1: [1]})
    meta_at = plain.index(b"meta") - 4
    meta_size = int.from_bytes(plain[meta_at : meta_at + 4], "big")
    large = b"\x00\x00\x00\x01meta" + (meta_size + 8).to_bytes(8, "big")
    data = plain[:meta_at] + large + plain[meta_at + 8 : meta_at + meta_size]

    assert sniff(data) == SourceInfo("avif", 30, 20)
    to_end = plain[:meta_at] + b"\x00\x00\x00\x00" + plain[meta_at + 4 : meta_at + meta_size]
    assert sniff(to_end) == SourceInfo("avif", 30, 20)


def test_avif_brand_past_byte_32_is_found_by_sniff_only() -> None:
    data = avif([ispe(30, 20)], {1: [1]}, brands=b"mif1" + b"miaf" * 5 + b"avif")

    assert sniff_format(data) is None
    assert sniff(data).format == "avif"


def cut_inside_meta(data: bytes) -> bytes:
    return data[: data.index(b"mdat") - 4 - 3]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(avif([box(b"free")] * 10_001, {1: [1]}), "too many", id="too-many-boxes"),
        pytest.param(
            avif([b"\x00\x00\x00\x04free", ispe(30, 20)]), "cut off or corrupt", id="size-4"
        ),
        pytest.param(
            avif([b"\x00\x00\x00\x01free" + (2**40).to_bytes(8, "big"), ispe(30, 20)]),
            "cut off or corrupt",
            id="largesize-past-the-end",
        ),
        pytest.param(
            cut_inside_meta(avif([ispe(30, 20)], {1: [1]})), "no complete meta", id="meta-cut-off"
        ),
        pytest.param(
            avif([ispe(30, 20)], full_box(b"ipma", b"\xff\xff\xff\xff\x00\x01")),
            "truncated AVIF ipma",
            id="ipma-count-past-its-data",
        ),
        pytest.param(
            box(b"ftyp", b"avif\x00\x00\x00\x00avif") + b"\x7f\xff\xff\xfffree" + avif([]),
            "no complete meta",
            id="box-before-meta-past-the-end",
        ),
    ],
)
def test_hostile_avif_boxes_are_undecodable(data: bytes, message: str) -> None:
    with pytest.raises(UndecodableImage, match=message):
        sniff(data)


# --- properties: any bytes give a SourceInfo or one of the two errors -----------------------

MAGICS = [
    b"\xff\xd8\xff",
    PNG_SIGNATURE,
    PNG_SIGNATURE + b"\x00\x00\x00\x0dIHDR",
    b"GIF89a",
    b"RIFF\x00\x00\x00\x00WEBPVP8X",
    b"RIFF\x00\x00\x00\x00WEBPVP8L",
    b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    b"\x00\x00\x00\x14ftypavif\x00\x00\x00\x00avif",
]

SEED_NAMES = [
    *GENERATED,
    "gif-animated",
    "webp-animated",
    "apng",
    "avif-synthetic",
    "jpeg-orientation-6",
]

FIELD_VALUES = [0, 1, 2, 7, 8, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]


@cache
def seed(name: str) -> bytes:
    if name in GENERATED:
        return generated(name)
    if name.endswith("-animated"):
        return animated(name.removesuffix("-animated"), 3)
    if name == "apng":
        png = generated("png-rgba")
        return png[:33] + png_chunk(b"acTL", struct.pack(">II", 3, 0)) + png[33:]
    if name == "avif-synthetic":
        return avif([ispe(30, 20), irot(1), aux_c(ALPHA_URN)], {1: [1, 2], 2: [3]})
    return encode(with_orientation(6), "jpeg")


def mutate(data: bytes, mutation: tuple[str, int, int, bytes]) -> bytes:
    kind, position, value, blob = mutation
    at = position % (len(data) + 1)
    if kind == "byte":
        return data[:at] + bytes([value & 0xFF]) + data[at + 1 :]
    if kind == "word":
        word = FIELD_VALUES[value % len(FIELD_VALUES)].to_bytes(4, "big")
        return data[:at] + word + data[at + 4 :]
    if kind == "cut":
        return data[:at]
    if kind == "insert":
        return data[:at] + blob + data[at:]
    return data[:at] + data[at + 1 + value % 16 :]


mutations = st.tuples(
    st.sampled_from(["byte", "word", "cut", "insert", "delete"]),
    st.integers(0, 1023),
    st.integers(0, 255),
    st.binary(min_size=1, max_size=16),
)


def assert_well_behaved(data: bytes) -> None:
    try:
        info = sniff(data)
    except (UnsupportedFormat, UndecodableImage):
        return
    assert info.width > 0
    assert info.height > 0
    assert info.frames >= 1
    assert 1 <= info.orientation <= 8
    named = sniff_format(data)
    assert named == info.format or (named is None and info.format == "avif")


@settings(max_examples=300, deadline=None, database=None)
@given(st.binary(max_size=2048))
def test_random_bytes(data: bytes) -> None:
    assert_well_behaved(data)


@settings(max_examples=300, deadline=None, database=None)
@given(st.sampled_from(MAGICS), st.binary(max_size=512))
def test_random_bytes_after_a_magic(magic: bytes, rest: bytes) -> None:
    assert_well_behaved(magic + rest)


@settings(max_examples=300, deadline=None, database=None)
@given(st.sampled_from(SEED_NAMES), st.lists(mutations, min_size=1, max_size=8))
def test_mutated_real_headers(name: str, changes: list[tuple[str, int, int, bytes]]) -> None:
    data = seed(name)
    for change in changes:
        data = mutate(data, change)
    assert_well_behaved(data)


def test_a_png_chunk_with_a_bad_crc_is_undecodable() -> None:
    """libvips forgives a bad CRC on an ancillary chunk, ImageMagick refuses the file: the
    sniffer decides, so both engines agree that it is corrupt."""
    data = bytearray(pyvips.Image.black(4, 4).write_to_buffer(".png"))
    text = b"tEXt" + b"Comment\x00hello"
    chunk = struct.pack(">I", len(text) - 4) + text + struct.pack(">I", zlib.crc32(text) ^ 1)
    broken = bytes(data[:33]) + chunk + bytes(data[33:])
    with pytest.raises(UndecodableImage, match="tEXt chunk is corrupt"):
        sniff(broken)
    fixed = broken.replace(
        struct.pack(">I", zlib.crc32(text) ^ 1), struct.pack(">I", zlib.crc32(text))
    )
    assert sniff(fixed).width == 4
