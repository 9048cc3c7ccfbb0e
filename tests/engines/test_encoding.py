"""Encoder settings on both engines, read back from the bytes they write.

JPEG: the start-of-frame marker says baseline (SOF0) or progressive (SOF2) and holds each
component's sampling factors (luma 2x2 is 4:2:0, 1x1 is 4:4:4). WebP: the first chunk
after the header says lossy (`VP8 `, or `VP8X` with `ALPH` + `VP8 `) or lossless (`VP8L`).
Privacy: no EXIF, XMP or IPTC (and no ICC) in any output format of any source.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvips

from images_server.engines import build_engine
from images_server.engines.base import Output
from images_server.formats.sniff import sniff
from images_server.pipeline.ops import OutputFormat
from images_server.pipeline.steps import ResizeTo, Resolved
from tests.images import decode, encode, near, pixel

FORMATS: tuple[OutputFormat, ...] = ("jpeg", "png", "webp", "avif", "gif")
SECRET = "secret-0451"
SOF0, SOF2 = 0xC0, 0xC2


@pytest.fixture(scope="module")
def photo(samples: Path) -> pyvips.Image:
    return pyvips.Image.thumbnail(str(samples / "photo-1mp-1200x900.jpg"), 240).copy_memory()


def render(engine: str, data: bytes, output: Output, resize: ResizeTo | None = None) -> bytes:
    info = sniff(data)
    if resize is None:
        resolved = Resolved((), info.width, info.height)
    else:
        resolved = Resolved((resize,), resize.width, resize.height)
    return build_engine(engine).render(data, info, resolved, output)


def jpeg_frame(data: bytes) -> tuple[int, list[tuple[int, int]]]:
    """The SOF marker and each component's (horizontal, vertical) sampling factors."""
    pos = 2
    while pos + 4 <= len(data):
        marker, length = data[pos + 1], int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            count = data[pos + 9]
            factors = [data[pos + 11 + 3 * i] for i in range(count)]
            return marker, [(f >> 4, f & 0x0F) for f in factors]
        pos += 2 + length
    raise AssertionError("no start-of-frame marker")


def webp_chunks(data: bytes) -> list[bytes]:
    chunks, pos = [], 12
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        chunks.append(data[pos : pos + 4])
        pos += 8 + size + (size & 1)
    return chunks


@pytest.mark.parametrize("progressive", [False, True])
def test_jpeg_is_progressive_only_when_asked(
    engine_name: str, photo: pyvips.Image, progressive: bool
) -> None:
    for source in (encode(photo, "png"), encode(photo, "jpeg", interlace=not progressive)):
        out = render(engine_name, source, Output("jpeg", 80, progressive=progressive))
        assert jpeg_frame(out)[0] == (SOF2 if progressive else SOF0)


@pytest.mark.parametrize(
    ("quality", "luma"), [(60, (2, 2)), (89, (2, 2)), (90, (1, 1)), (95, (1, 1))]
)
def test_chroma_subsampling_follows_quality(
    engine_name: str, photo: pyvips.Image, quality: int, luma: tuple[int, int]
) -> None:
    for mode in ("on", "off"):  # a JPEG source's own sampling must not carry over
        source = encode(photo, "jpeg", Q=92, subsample_mode=mode)
        out = render(engine_name, source, Output("jpeg", quality))
        assert jpeg_frame(out)[1] == [luma, (1, 1), (1, 1)]


def test_webp_lossless_and_lossy(engine_name: str, photo: pyvips.Image, samples: Path) -> None:
    source = encode(photo, "png")
    lossless = render(engine_name, source, Output("webp", 80, lossless=True))
    assert webp_chunks(lossless) == [b"VP8L"]
    assert decode(lossless).cast("int").subtract(photo.cast("int")).abs().max() == 0
    assert webp_chunks(render(engine_name, source, Output("webp", 80))) == [b"VP8 "]
    dice = (samples / "dice-alpha-300x225.png").read_bytes()
    alpha_lossy = render(engine_name, dice, Output("webp", 80))
    assert {b"ALPH", b"VP8 "} <= set(webp_chunks(alpha_lossy))
    assert webp_chunks(render(engine_name, dice, Output("webp", 80, lossless=True)))[-1] == b"VP8L"


def test_avif_decodes(engine_name: str, photo: pyvips.Image) -> None:
    out = render(engine_name, encode(photo, "png"), Output("avif", 60))
    assert sniff(out).format == "avif"
    image = decode(out)
    assert (image.width, image.height) == (240, 180)
    assert float((image[:3].cast("float") - photo.cast("float")).abs().avg()) <= 6


def test_jpeg_flattens_alpha_on_the_background(engine_name: str, samples: Path) -> None:
    dice = (samples / "dice-alpha-300x225.png").read_bytes()
    out = render(engine_name, dice, Output("jpeg", 90, background=(255, 0, 0, 255)))
    assert near(pixel(out, 2, 2), (255, 0, 0), tolerance=8)


def tagged(photo: pyvips.Image, fmt: str) -> bytes:
    """`photo` with EXIF and XMP that carry a marker string, and an sRGB ICC profile."""
    image = photo.icc_transform("srgb", input_profile="srgb").copy()
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Artist", SECRET)
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><s>{SECRET}</s></x:xmpmeta>'
    image.set_type(pyvips.GValue.blob_type, "xmp-data", xmp.encode())
    return encode(image, fmt)


def assert_no_metadata(out: bytes) -> None:
    for marker in (b"Exif\0\0", b"eXIf", b"xmpmeta", SECRET.encode()):
        assert marker not in out
    fields = decode(out).get_fields()
    assert not [f for f in fields if f.split("-")[0] in ("exif", "xmp", "iptc", "icc")]


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_metadata_leaves(engine_name: str, photo: pyvips.Image, fmt: OutputFormat) -> None:
    for source_fmt in ("jpeg", "png", "webp"):
        source = tagged(photo, source_fmt)
        assert SECRET.encode() in source
        assert_no_metadata(render(engine_name, source, Output(fmt, 80), ResizeTo(120, 90)))


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_gps_leaves_a_camera_photo(engine_name: str, samples: Path, fmt: OutputFormat) -> None:
    source = (samples / "camera-iphone-8mp-3264x2448.jpg").read_bytes()
    assert any("GPS" in field for field in decode(source).get_fields())
    assert_no_metadata(render(engine_name, source, Output(fmt, 80), ResizeTo(160, 120)))
