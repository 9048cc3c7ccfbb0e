"""`text` drawn on both engines: the fonts in the package, every script, nothing interpreted.

One renderer draws the text for both engines (`engines.text`), and each lays it as an
overlay, so the engines agree to the resampler's noise. Arabic is shaped and right to left,
CJK draws real glyphs (not the boxes of a missing font), and markup is drawn as characters.
"""

from __future__ import annotations

import base64
import itertools
import os
from pathlib import Path
from urllib.parse import quote

import pytest
import pyvips

from images_server.engines.text import FONTS, rasterize, use_shipped_fonts
from images_server.pipeline.text import Text
from tests.engines.test_contract import mae
from tests.images import decode, encode, near, pixel
from tests.spine import Spine, make_spine


def _ink(text: str, **options: object) -> pyvips.Image:
    return decode(rasterize(Text(text, **options)).data)[3]  # type: ignore[arg-type]


def _blank(width: int, height: int) -> bytes:
    image = pyvips.Image.black(width, height).new_from_image([40, 60, 80]).cast("uchar")
    return encode(image.copy(interpretation="srgb"), "png")


def test_fontconfig_sees_only_the_shipped_fonts() -> None:
    use_shipped_fonts()
    config = Path(os.environ["FONTCONFIG_FILE"]).read_text()
    assert f"<dir>{FONTS}</dir>" in config
    assert "/usr/share/fonts" not in config
    assert {path.name for path in FONTS.glob("*.ttf")} == {
        "NotoSans-Regular.ttf", "NotoSansArabic-Regular.ttf", "DroidSansFallbackFull.ttf"
    }  # fmt: skip
    assert (FONTS / "OFL-1.1.txt").is_file()
    assert (FONTS / "Apache-2.0.txt").is_file()


def test_cjk_and_arabic_draw_real_glyphs() -> None:
    drawn = {text: _ink(text, size=40) for text in ("你", "好", "界", "م", "ب", "a")}
    for text, ink in drawn.items():
        assert ink.max() == 255, text
    same_size = [ink for text, ink in drawn.items() if text in "你好界"]
    assert all(mae_of(a, b) > 5 for a, b in itertools.pairwise(same_size))


def mae_of(a: pyvips.Image, b: pyvips.Image) -> float:
    return float((a.cast("float") - b.cast("float")).abs().avg())


def test_arabic_is_joined_and_runs_right_to_left() -> None:
    # Joined, "بب" is narrower than two isolated forms side by side
    assert _ink("بب", size=60).width < 2 * _ink("ب", size=60).width - 4
    # "1 ب": the Arabic letter comes first in the text and lands on the right
    mixed = _ink("ب abc", size=60)
    latin = _ink("abc", size=60)
    right = mixed.crop(mixed.width - latin.width, 0, latin.width, mixed.height)
    left = mixed.crop(0, 0, latin.width, mixed.height)
    assert mae_of(left, latin.embed(0, 0, latin.width, mixed.height)) < mae_of(
        right, latin.embed(0, 0, latin.width, mixed.height)
    )


def test_markup_is_drawn_as_written() -> None:
    plain, markup = _ink("<b>x</b>", size=30), _ink("x", size=30)
    assert plain.width > 4 * markup.width  # seven characters, not one bold x


def test_lines_wrap_at_the_given_width() -> None:
    one_line = _ink("one two three four", size=30)
    wrapped = _ink("one two three four", size=30, wrap=120)
    assert wrapped.width <= 120 < one_line.width
    assert wrapped.height >= 2 * one_line.height - 4


def test_colour_opacity_and_box(spine: Spine) -> None:
    base = _blank(300, 100)
    body = spine(base, "text/IIIII,nw,s60,cff0000,bg00ff00/format/png")
    image = decode(body)
    assert near(pixel(image, 2, 2), (0, 255, 0), 3)  # the box's padding
    reds = (image[0] > 200) & (image[1] < 60)
    assert reds.max() == 255  # the text itself
    assert near(pixel(image, 299, 99), (40, 60, 80), 3)  # the rest untouched


@pytest.mark.parametrize("text", ["Hello, world", "مرحبا بالعالم", "你好，世界"])  # noqa: RUF001
def test_both_engines_draw_the_same_text(text: str) -> None:
    arg = "b64:" + base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
    path = f"text/{quote(arg)},c,s40,cffffff,bg000000a0/format/png"
    base = _blank(400, 200)
    assert mae(make_spine("vips")(base, path), make_spine("wand")(base, path)) < 2.0
