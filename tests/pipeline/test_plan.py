"""Normalisation: equivalent pipelines make one plan, so they share one cache entry."""

from __future__ import annotations

import pytest

from images_server.errors import InvalidPipeline
from images_server.pipeline.parse import parse_pipeline
from images_server.pipeline.plan import Plan, make_plan


def plan(path: str) -> Plan:
    return make_plan(parse_pipeline(path.replace("%25", "%"), max_ops=20))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("resize/200x", "resize/200"),
        ("quality/080", "quality/80"),
        ("format/webp/resize/100x", "resize/100x/format/webp"),
        ("format/png/format/webp/resize/100x", "resize/100x/format/webp"),
        ("flip/h/flip/h/resize/100x", "resize/100x"),
        ("flip/h/flip/v", "flip/hv"),
        ("rotate/90/rotate/90", "rotate/180"),
        ("rotate/-90", "rotate/270"),
        ("rotate/360/resize/10x", "rotate/0/resize/10x"),
        ("format/jpg", "format/jpeg"),
        ("dpr/2/resize/100x/crop/n40x30", "resize/200x/crop/n80x60"),
        ("dpr/2/crop/10x10+5+5/pad/50x40", "crop/20x20+10+10/pad/100x80"),
        ("dpr/1.5/resize/@1000", "resize/@2250"),
        ("resize/50%25/dpr/3", "resize/50%25"),
        ("resize/100x/dpr/2", "resize/100x"),
        ("background/ff0000/pad/10x10/background/00ff00", "pad/10x10/background/00FF00FF"),
        ("filter/invert/filter/invert/blur/2", "blur/2.0"),
        ("filter/grayscale/filter/grayscale", "filter/grayscale"),
        ("preset/thumb", "resize/200x200^/crop/c200x200"),
        ("preset/medium/quality/70", "quality/70/resize/800x800>"),
    ],
)
def test_equivalent_pipelines_share_a_key(first: str, second: str) -> None:
    assert plan(first) == plan(second)
    assert plan(first).variant("e1") == plan(second).variant("e1")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("resize/200x", "resize/x200"),
        ("resize/200x200", "resize/200x200!"),
        ("flip/h/rotate/90", "rotate/90/flip/h"),
        ("rotate/30/rotate/60", "rotate/90"),
        ("resize/100x", "resize/100x/format/png"),
        ("dpr/2/resize/100x", "resize/100x"),
        ("filter/sepia/filter/grayscale", "filter/grayscale/filter/sepia"),
        ("pad/10x10/background/ff0000", "pad/10x10/background/ff000000"),
        ("blur/1", "sharpen/1"),
    ],
)
def test_different_pipelines_differ(first: str, second: str) -> None:
    assert plan(first).variant("e1") != plan(second).variant("e1")


def test_engine_version_is_part_of_the_key() -> None:
    assert plan("resize/10x").variant("vips-8.18") != plan("resize/10x").variant("vips-8.19")


def test_identity_and_output_settings() -> None:
    assert plan("").is_identity
    assert plan("rotate/360").is_identity
    assert not plan("quality/50").is_identity
    webp = plan("format/webp")
    assert webp.output_format("jpeg") == "webp"
    assert webp.output_quality("webp") == 80
    assert plan("").output_format("png") == "png"
    assert plan("quality/42").output_quality("jpeg") == 42
    assert (
        plan("resize/10x/format/webp/quality/70").canonical() == "resize/10x/format/webp/quality/70"
    )


def test_auto_format_must_be_negotiated_before_keying() -> None:
    auto = plan("resize/10x/format/auto")
    with pytest.raises(ValueError, match="negotiated"):
        auto.variant("e1")
    assert auto.with_format("webp") == plan("resize/10x/format/webp")
    assert auto.with_format(None).variant("e1") == plan("resize/10x").variant("e1")


def test_dpr_beyond_the_largest_side_is_a_bad_pipeline() -> None:
    with pytest.raises(InvalidPipeline, match="'resize/40000x' at dpr 2"):
        plan("dpr/2/resize/40000x")
