"""`text/<text>[,options]`: its grammar, limits and canonical form (one key per drawing)."""

from __future__ import annotations

import base64

import pytest

from images_server.errors import InvalidPipeline
from images_server.pipeline.parse import parse_pipeline
from images_server.pipeline.plan import make_plan
from images_server.pipeline.text import MAX_CHARS, Text, parse_text


def _b64(text: str) -> str:
    return "b64:" + base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_the_text_comes_first_and_options_follow_in_any_order() -> None:
    assert parse_text("Hello") == Text("Hello")
    parsed = parse_text("Hi there,w300,bg00000080,o70,cff0000,s24,10,nw")
    assert parsed == Text("Hi there", "nw", 10, 24, (255, 0, 0, 255), 70, (0, 0, 0, 128), 300)


def test_a_comma_slash_or_percent_travels_as_base64url() -> None:
    assert parse_text(_b64("a, b / 100%")).text == "a, b / 100%"
    assert parse_text(_b64("مرحبا") + ",c").text == "مرحبا"


def test_every_spelling_of_one_drawing_has_one_key() -> None:
    def key(path: str) -> str:
        return make_plan(parse_pipeline(path, max_ops=10)).canonical()

    assert key("text/Hi,se,0,s32,cffffff,o100") == key("text/Hi") == key(f"text/{_b64('Hi')}")
    assert key("text/Hi") != key("text/hi")


def test_the_canonical_segment_parses_back() -> None:
    op = Text("a/b, c", "c", 4, 20, (1, 2, 3, 4), 50, (5, 6, 7, 255), 100)
    (again,) = parse_pipeline(op.segment(), max_ops=10)
    assert again == op


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("", "missing argument"),
        (",se", "the text is empty"),
        ("  ,se", "the text is empty"),
        ("x" * (MAX_CHARS + 1), f"at most {MAX_CHARS}"),
        ("a\u0007b", "control character"),
        ("b64:!!!", "base64url"),
        (_b64("\u0000"), "control character"),
        ("Hi,s5", "the size is 6..200"),
        ("Hi,o0", "the opacity is 1..100"),
        ("Hi,cred", "unknown text option 'cred'"),
        ("Hi,c12345", "a colour must be rrggbb or rrggbbaa"),
        ("Hi,se,nw", "gravity is given twice"),
    ],
)
def test_bad_text_is_a_400_naming_the_segment(arg: str, message: str) -> None:
    with pytest.raises(InvalidPipeline) as caught:
        parse_pipeline(f"resize/100x/text/{arg}", max_ops=10)
    assert f"'text/{arg}'" in caught.value.message
    assert message in caught.value.message


def test_a_device_pixel_ratio_scales_the_size_margin_and_wrap() -> None:
    (op,) = make_plan(parse_pipeline("dpr/2/text/Hi,s20,5,w100", max_ops=10)).ops
    assert op == Text("Hi", margin=10, size=40, wrap=200)
