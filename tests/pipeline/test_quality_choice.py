"""`quality/auto` and per-format quality (`quality/jpeg:80,webp:75`): parsing, 400s naming the
segment, and normalisation (the key holds only the chosen format's quality)."""

from __future__ import annotations

import pytest

from images_server.errors import InvalidPipeline
from images_server.pipeline.ops import AutoQuality, PerFormatQuality, Quality
from images_server.pipeline.parse import parse_pipeline
from images_server.pipeline.plan import Plan, make_plan


def plan(path: str) -> Plan:
    return make_plan(parse_pipeline(path, max_ops=20))


@pytest.mark.parametrize(
    ("arg", "op"),
    [
        ("80", Quality(80)),
        ("auto", AutoQuality()),
        ("jpeg:80", PerFormatQuality((("jpeg", 80),))),
        ("webp:75,jpg:80,avif:50", PerFormatQuality((("avif", 50), ("jpeg", 80), ("webp", 75)))),
        ("avif:1,webp:100", PerFormatQuality((("avif", 1), ("webp", 100)))),
        ("jpeg:080", PerFormatQuality((("jpeg", 80),))),
    ],
)
def test_quality_arguments(arg: str, op: object) -> None:
    assert parse_pipeline(f"quality/{arg}", max_ops=5) == (op,)


@pytest.mark.parametrize(
    ("arg", "says"),
    [
        ("png:80", "'png:80': per-format quality takes jpeg, webp, avif, jxl (PNG and GIF"),
        ("gif:80", "'gif:80'"),
        ("heic:80", "'heic:80'"),
        ("jpeg:0", "'jpeg:0': quality must be a whole number from 1 to 100"),
        ("webp:101", "'webp:101'"),
        ("avif:", "'avif:'"),
        ("avif:5.5", "'avif:5.5'"),
        ("jpeg:80,jpeg:70", "'jpeg:70': jpeg is given more than once"),
        ("jpeg:80,jpg:70", "'jpg:70': jpeg is given more than once"),
        ("jpeg:80,", "'': per-format quality takes"),
        ("jpeg:80;webp:70", "'jpeg:80;webp:70'"),
        ("Auto", "quality must be a whole number from 1 to 100, auto, or per format"),
        ("auto:80", "'auto:80'"),
    ],
)
def test_bad_quality_names_the_segment(arg: str, says: str) -> None:
    with pytest.raises(InvalidPipeline) as raised:
        parse_pipeline(f"resize/10x/quality/{arg}", max_ops=5)
    assert raised.value.message.startswith(f"'quality/{arg}': ")
    assert says in raised.value.message


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("quality/webp:75,jpeg:80", "quality/jpeg:80,webp:75"),
        ("quality/jpg:80", "quality/jpeg:080"),
        ("format/webp/quality/jpeg:80,webp:75", "format/webp/quality/75"),
        ("quality/jpeg:80,webp:75/format/webp", "format/webp/quality/75"),
        ("format/png/quality/jpeg:80", "format/png"),
        ("format/avif/quality/jpeg:80,webp:75", "format/avif"),
        ("quality/40/quality/auto", "quality/auto"),
        ("quality/auto/quality/jpeg:40", "quality/jpeg:40"),
        ("quality/jpeg:40/quality/60", "quality/60"),
    ],
)
def test_equivalent_quality_spellings_share_a_key(first: str, second: str) -> None:
    assert plan(first) == plan(second)
    assert plan(first).variant("e1") == plan(second).variant("e1")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("quality/auto", "quality/85"),
        ("quality/auto", ""),
        ("quality/jpeg:80", "quality/80"),  # the source's format is not known when keying
        ("quality/jpeg:80", "quality/webp:80"),
        ("format/webp/quality/auto", "format/webp"),
    ],
)
def test_different_quality_choices_differ(first: str, second: str) -> None:
    assert plan(first).variant("e1") != plan(second).variant("e1")


def test_format_auto_keeps_every_entry_until_negotiated() -> None:
    auto = plan("format/auto/quality/jpeg:80,webp:75,avif:50")
    assert auto.quality == (("avif", 50), ("jpeg", 80), ("webp", 75))
    assert auto.with_format("avif").quality == 50
    assert auto.with_format("webp").canonical() == "format/webp/quality/75"
    assert auto.with_format(None).canonical() == "quality/avif:50,jpeg:80,webp:75"


def test_output_quality_per_format() -> None:
    mixed = plan("quality/jpeg:70,avif:40")
    assert [mixed.output_quality(f) for f in ("jpeg", "avif", "webp", "png")] == [70, 40, 80, 100]
    assert plan("quality/auto").output_quality("jpeg") == 85  # the search picks its own
    assert plan("quality/auto").auto_quality
    assert not plan("quality/auto").is_identity
    assert not plan("quality/jpeg:70").is_identity
