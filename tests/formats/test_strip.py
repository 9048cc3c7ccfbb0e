"""`strip_metadata` on real files: metadata gone, pixels byte-identical, orientation kept.

The originals are the bench camera photos (the iPhone one carries GPS, the Canon one EXIF
orientation 6) and small PNG, WebP, GIF and AVIF files made here with libvips carrying the
iPhone's EXIF and an XMP packet naming an owner. Pixels are compared with libvips: a
lossless strip decodes to exactly the same values. A property test then feeds truncated
and mutated files to the stripper, which must fail only with the project's errors.
"""

from __future__ import annotations

import contextlib
import subprocess
import zlib
from pathlib import Path

import pytest
import pyvips
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from images_server.errors import ImagesError
from images_server.formats.exif import orientation_tiff
from images_server.formats.sniff import SourceInfo, sniff
from images_server.formats.strip import strip_metadata

OWNER = b"Jane Owner"
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="' + OWNER + b'"/>'
    b"</rdf:RDF></x:xmpmeta>"
)


def load(data: bytes, **options: object) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(data, "", **options)


def strip(data: bytes) -> bytes:
    out = strip_metadata(data, sniff(data))
    assert out is not None
    return out


def assert_same_pixels(original: bytes, stripped: bytes, **options: object) -> None:
    a, b = load(original, **options), load(stripped, **options)
    assert (a.width, a.height, a.bands) == (b.width, b.height, b.bands)
    assert (a - b).abs().max() == 0


def exif_fields(image: pyvips.Image) -> list[str]:
    return [name for name in image.get_fields() if name.startswith("exif-")]


@pytest.fixture(scope="module")
def iphone(samples: Path) -> bytes:
    return (samples / "camera-iphone-8mp-3264x2448.jpg").read_bytes()


@pytest.fixture(scope="module")
def canon(samples: Path) -> bytes:
    return (samples / "camera-canon-3mp-orient6.jpg").read_bytes()


@pytest.fixture(scope="module")
def iphone_exif(iphone: bytes) -> bytes:
    return bytes(load(iphone).get("exif-data"))


def tagged(exif: bytes, orientation: int = 1) -> pyvips.Image:
    """A small photo carrying `exif`, the XMP packet and `orientation`."""
    image = pyvips.Image.black(48, 32, bands=3).linear([1, 1, 1], [10, 120, 240])
    image = (image + pyvips.Image.xyz(48, 32)[0] * 4).cast("uchar").copy(interpretation="srgb")
    image.set_type(pyvips.GValue.blob_type, "exif-data", exif)
    image.set_type(pyvips.GValue.blob_type, "xmp-data", XMP)
    image.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    return image


def save(image: pyvips.Image, suffix: str) -> bytes:
    return bytes(image.write_to_buffer(suffix, keep="all"))


# --- JPEG --------------------------------------------------------------------------------------


def test_jpeg_loses_exif_and_gps_keeps_pixels(iphone: bytes, iphone_exif: bytes) -> None:
    assert any("GPS" in name for name in exif_fields(load(iphone)))
    out = strip(iphone)
    assert exif_fields(load(out)) == []
    assert iphone_exif[6:200] not in out
    assert b"iPhone" not in out
    assert b"Apple" not in out
    assert out.startswith(b"\xff\xd8")
    assert out.endswith(b"\xff\xd9")
    assert_same_pixels(iphone, out)


def test_jpeg_keeps_orientation_only(canon: bytes) -> None:
    original = load(canon)
    assert original.get("orientation") == 6
    assert "exif-ifd0-Model" in original.get_fields()
    out = strip(canon)
    image = load(out)
    assert image.get("orientation") == 6
    assert bytes(image.get("exif-data")) == b"Exif\0\0" + orientation_tiff(6)
    assert b"Canon" not in out
    assert sniff(out) == sniff(canon)
    assert_same_pixels(canon, out)


def test_jpeg_keeps_icc_jfif_and_adobe(iphone_exif: bytes) -> None:
    image = tagged(iphone_exif).icc_transform("p3")  # attaches a Display P3 profile
    original = bytes(image.cast("uchar").write_to_buffer(".jpg", keep="all"))
    assert "icc-profile-data" in load(original).get_fields()
    out = strip(original)
    stripped = load(out)
    assert bytes(stripped.get("icc-profile-data")) == bytes(load(original).get("icc-profile-data"))
    assert exif_fields(stripped) == []
    assert "xmp-data" not in stripped.get_fields()
    assert OWNER not in out
    assert_same_pixels(original, out)


def test_jpeg_keeps_adobe_segment_of_cmyk(iphone_exif: bytes) -> None:
    image = tagged(iphone_exif).colourspace("cmyk")
    original = save(image, ".jpg")
    assert b"Adobe" in original[:64]
    out = strip(original)
    assert out[2:4] == b"\xff\xee"
    assert out[6:11] == b"Adobe"
    assert exif_fields(load(out)) == []
    assert OWNER not in out
    assert load(out).interpretation == "cmyk"
    assert_same_pixels(original, out)


def test_jpeg_keeps_jfif_and_drops_jfxx(canon: bytes) -> None:
    jfif = b"\xff\xe0\x00\x10JFIF\0\x01\x01\x01\x00\x48\x00\x48\x00\x00"
    jfxx = b"\xff\xe0\x00\x0aJFXX\0\x13\x00\x00"
    original = canon[:2] + jfif + jfxx + canon[2:]
    out = strip(original)
    assert out.startswith(b"\xff\xd8" + jfif + b"\xff\xe1")  # then the orientation
    assert b"JFXX" not in out
    assert load(out).get("orientation") == 6
    assert_same_pixels(canon, out)


def test_jpeg_drops_comments_and_trailers(canon: bytes) -> None:
    comment = b"\xff\xfe\x00\x0c" + OWNER
    original = canon[:2] + comment + canon[2:] + b"trailing Exif and an MPF image"
    out = strip(original)
    assert OWNER not in out
    assert not out.endswith(b"image")
    assert_same_pixels(canon, out)


# --- PNG ---------------------------------------------------------------------------------------


def png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body).to_bytes(4, "big")
    return len(body).to_bytes(4, "big") + kind + body + crc


@pytest.mark.parametrize("orientation", [1, 6])
def test_png_loses_exif_and_xmp(iphone_exif: bytes, orientation: int) -> None:
    original = save(tagged(iphone_exif, orientation), ".png")
    assert b"eXIf" in original
    out = strip(original)
    image = load(out)
    assert "xmp-data" not in image.get_fields()
    assert image.get_typeof("orientation") == 0 or image.get("orientation") == orientation
    if orientation == 1:
        assert exif_fields(image) == []
    else:
        assert bytes(image.get("exif-data")) == orientation_tiff(orientation)
        assert out.index(b"eXIf") < out.index(b"IDAT")
    assert iphone_exif[6:200] not in out
    assert sniff(out) == sniff(original)
    assert_same_pixels(original, out)


def test_png_loses_text_and_time(samples: Path) -> None:
    plain = (samples / "dice-alpha-300x225.png").read_bytes()
    extra = (
        png_chunk(b"tEXt", b"Author\0" + OWNER)
        + png_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(OWNER))
        + png_chunk(b"tIME", bytes(7))
        + png_chunk(b"prVt", OWNER)
    )
    original = plain[:33] + extra + plain[33:]
    assert load(original).get("png-comment-0-Author") == OWNER.decode()
    out = strip(original)
    for kind in (b"tEXt", b"zTXt", b"tIME", b"prVt"):
        assert kind not in out
    assert not [name for name in load(out).get_fields() if name.startswith("png-comment")]
    assert_same_pixels(original, out)


# --- WebP --------------------------------------------------------------------------------------


@pytest.mark.parametrize("orientation", [1, 6])
def test_webp_loses_exif_and_xmp(iphone_exif: bytes, orientation: int) -> None:
    original = save(tagged(iphone_exif, orientation), ".webp")
    assert b"EXIF" in original
    assert b"XMP " in original
    out = strip(original)
    assert b"XMP " not in out
    assert OWNER not in out
    assert iphone_exif[6:200] not in out
    assert int.from_bytes(out[4:8], "little") == len(out) - 8
    assert out[20] & 0x04 == 0
    image = load(out)
    assert "xmp-data" not in image.get_fields()
    if orientation == 1:
        assert exif_fields(image) == []
        assert out[20] & 0x08 == 0
    else:
        assert image.get("orientation") == orientation
        assert out[20] & 0x08
    assert sniff(out) == sniff(original)
    assert_same_pixels(original, out)


def test_simple_webp_is_unchanged() -> None:
    image = (pyvips.Image.black(16, 16) + 99).cast("uchar")
    original = bytes(image.write_to_buffer(".webp", keep="none"))
    assert original[12:16] in (b"VP8 ", b"VP8L")
    assert strip(original) == original


# --- GIF ---------------------------------------------------------------------------------------


def animated_gif() -> bytes:
    frames = [(pyvips.Image.black(20, 10) + value).cast("uchar") for value in (0, 128, 255)]
    strip_ = pyvips.Image.arrayjoin(frames, across=1).copy(interpretation="b-w")
    strip_.set_type(pyvips.GValue.gint_type, "page-height", 10)
    strip_.set_type(pyvips.GValue.array_int_type, "delay", [100, 100, 100])
    strip_.set_type(pyvips.GValue.gint_type, "loop", 0)
    return bytes(strip_.write_to_buffer(".gif"))


def with_metadata(gif: bytes) -> bytes:
    """`gif` with a comment and an XMP application extension after its colour table."""
    flags = gif[10]
    start = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    comment = b"\x21\xfe" + bytes([len(OWNER)]) + OWNER + b"\0"
    xmp = b"\x21\xff\x0bXMP DataXMP" + bytes([len(XMP[:255])]) + XMP[:255] + b"\0"
    return gif[:start] + comment + xmp + gif[start:]


def test_gif_loses_comment_and_xmp_keeps_loop() -> None:
    plain = animated_gif()
    assert b"NETSCAPE2.0" in plain
    original = with_metadata(plain)
    assert OWNER in original
    out = strip(original)
    assert out == plain
    image = load(out, n=-1)
    assert image.get("loop") == 0
    assert image.get("n-pages") == 3
    assert sniff(out) == sniff(original)
    assert_same_pixels(original, out, n=-1)


def test_gif_from_imagemagick_loses_comment(convert: str, tmp_path: Path) -> None:
    target = tmp_path / "a.gif"
    subprocess.run(
        [convert, "-comment", "Jane Owner", "-size", "8x8", "xc:red", "xc:blue", "-loop", "0",
         str(target)],
        check=True,
    )  # fmt: skip
    original = target.read_bytes()
    assert OWNER in original
    out = strip(original)
    assert OWNER not in out
    assert b"NETSCAPE2.0" in out
    assert_same_pixels(original, out, n=-1)


# --- AVIF --------------------------------------------------------------------------------------


def test_avif_without_metadata_is_unchanged() -> None:
    original = bytes(tagged(b"").write_to_buffer(".avif", keep="none"))
    assert strip(original) == original


def test_avif_with_exif_needs_a_re_encode(iphone_exif: bytes) -> None:
    original = save(tagged(iphone_exif), ".avif")
    assert "exif-data" in load(original).get_fields()
    assert strip_metadata(original, sniff(original)) is None


# --- hostile input -----------------------------------------------------------------------------


def samples(iphone_exif: bytes) -> list[bytes]:
    small_jpeg = save(tagged(iphone_exif, 6), ".jpg")
    return [
        small_jpeg,
        save(tagged(iphone_exif, 6), ".png"),
        save(tagged(iphone_exif, 6), ".webp"),
        with_metadata(animated_gif()),
        save(tagged(iphone_exif), ".avif"),
        bytes(tagged(b"").write_to_buffer(".avif", keep="none")),
    ]


@pytest.fixture(scope="module")
def hostile_samples(iphone_exif: bytes) -> list[tuple[bytes, SourceInfo]]:
    return [(data, sniff(data)) for data in samples(iphone_exif)]


@hypothesis_settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    which=st.integers(0, 5),
    cut=st.integers(0, 2**20),
    mutations=st.lists(st.tuples(st.integers(0, 2**20), st.integers(0, 255)), max_size=8),
)
def test_hostile_input_raises_only_project_errors(
    hostile_samples: list[tuple[bytes, SourceInfo]],
    which: int,
    cut: int,
    mutations: list[tuple[int, int]],
) -> None:
    data, info = hostile_samples[which]
    mutated = bytearray(data[: cut % (len(data) + 1)])
    for at, value in mutations:
        if mutated:
            mutated[at % len(mutated)] = value
    damaged = bytes(mutated)
    with contextlib.suppress(ImagesError):
        strip_metadata(damaged, info)  # as sniffed before the damage
    with contextlib.suppress(ImagesError):
        strip_metadata(damaged, sniff(damaged))
