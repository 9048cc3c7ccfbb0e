"""The formats package: one table of names, media types and extensions, and sniffing and
stripping that load no image library (they run before any decoder sees the bytes)."""

from __future__ import annotations

import json
import subprocess
import sys

from images_server.formats import (
    EXTENSIONS,
    INPUT_FORMATS,
    MEDIA_TYPES,
    OUTPUT_FORMATS,
    TITLES,
    WEB_FORMATS,
    ImageFormat,
    media_type_of_extension,
    served_format,
)
from images_server.jobs.variants import eager_plans
from images_server.settings import Settings


def test_every_format_has_a_media_type_an_extension_and_a_title() -> None:
    assert set(MEDIA_TYPES) == set(EXTENSIONS) == set(TITLES) == set(INPUT_FORMATS)
    assert set(OUTPUT_FORMATS) <= set(INPUT_FORMATS)
    assert media_type_of_extension("jpg") == "image/jpeg"
    assert media_type_of_extension("jpeg") is None  # files are written as .jpg
    assert media_type_of_extension("bmp") is None


def test_eager_formats_are_the_format_names_or_source() -> None:
    settings = Settings(eager_presets=("thumb",), eager_formats=(*OUTPUT_FORMATS, "source"))
    formats = [plan.format for plan in eager_plans(settings)]
    assert formats[:-1] == list(OUTPUT_FORMATS)
    assert formats[-1] is None  # the source's own


def test_sniffing_and_stripping_load_no_image_library() -> None:
    code = (
        "import json, sys\n"
        "import images_server.formats.sniff, images_server.formats.strip\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    modules = set(json.loads(done.stdout))
    assert "images_server.formats.sniff" in modules
    assert not {"pyvips", "wand", "images_server.engines"} & modules


def test_a_web_format_is_served_as_itself_and_the_others_as_jpeg_or_png() -> None:
    for fmt in WEB_FORMATS:
        assert served_format(fmt, has_alpha=True) == fmt
        assert served_format(fmt, has_alpha=False) == fmt
    others: tuple[ImageFormat, ...] = ("heic", "tiff", "jxl")
    for other in others:
        assert served_format(other, has_alpha=False) == "jpeg"
        assert served_format(other, has_alpha=True) == "png"
    assert served_format("svg", has_alpha=False) == "png"  # a drawing: sharp edges
