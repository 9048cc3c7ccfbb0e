"""Client hints settled into ops: parsing, buckets, the rewritten plan and its key."""

from __future__ import annotations

import pytest

from images_server.errors import InvalidPipeline
from images_server.pipeline.hints import (
    DEFAULT_WIDTHS,
    Hints,
    apply_hints,
    dpr_bucket,
    parse_dpr,
    parse_width,
    width_bucket,
    with_save_data,
)
from images_server.pipeline.ops import DprAuto, ResizeAuto
from images_server.pipeline.parse import parse_pipeline
from images_server.pipeline.plan import Plan, make_plan


def _plan(path: str, hints: Hints, fallback: int = 1280) -> Plan:
    hinted = apply_hints(parse_pipeline(path, 10), hints, DEFAULT_WIDTHS, fallback)
    return make_plan(hinted.ops)


def test_auto_parses_to_the_hint_ops() -> None:
    assert parse_pipeline("dpr/auto/resize/auto", 10) == (DprAuto(), ResizeAuto())
    assert [op.segment() for op in parse_pipeline("dpr/auto/resize/auto", 10)] == [
        "dpr/auto",
        "resize/auto",
    ]


@pytest.mark.parametrize("path", ["dpr/auto", "resize/auto", "preset/x"])
def test_without_hints_the_ops_are_400_naming_the_segment(path: str) -> None:
    ops = parse_pipeline(path, 10, presets={"x": "resize/auto"})
    with pytest.raises(InvalidPipeline) as caught:
        make_plan(ops)
    segment = "dpr/auto" if path == "dpr/auto" else "resize/auto"
    assert caught.value.message.startswith(f"'{segment}': ")
    assert "IMAGES_CLIENT_HINTS=true" in caught.value.message


@pytest.mark.parametrize("path", ["dpr/automatic", "resize/autox", "dpr/AUTO"])
def test_near_misses_are_still_refused(path: str) -> None:
    with pytest.raises(InvalidPipeline, match=f"'{path}'"):
        parse_pipeline(path, 10)


@pytest.mark.parametrize(
    ("text", "value"),
    [("2", 2.0), ("2.625", 2.625), (" 1.5 ", 1.5), ("0", None), ("-1", None), ("2e1", None),
     ("", None), (None, None), ("1.100000023841858", 1.100000023841858)],
)  # fmt: skip
def test_parse_dpr(text: str | None, value: float | None) -> None:
    assert parse_dpr(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("700", 700), ("0700", 700), ("0", None), ("7.5", None), ("-3", None), ("", None)],
)
def test_parse_width(text: str, value: int | None) -> None:
    assert parse_width(text) == value


@pytest.mark.parametrize(
    ("value", "bucket"),
    [(None, 1.0), (0.5, 1.0), (1.0, 1.0), (1.01, 1.5), (1.5, 1.5), (1.75, 2.0), (2.0, 2.0),
     (2.625, 3.0), (3.0, 3.0), (4.0, 3.0)],
)  # fmt: skip
def test_dpr_rounds_up_to_a_bucket(value: float | None, bucket: float) -> None:
    assert dpr_bucket(value) == bucket


@pytest.mark.parametrize(
    ("value", "bucket"),
    [(1, 160), (160, 160), (161, 320), (700, 800), (800, 800), (801, 1024), (1300, 1600),
     (3840, 3840), (9000, 3840)],
)  # fmt: skip
def test_width_rounds_up_to_a_bucket(value: int, bucket: int) -> None:
    assert width_bucket(value, DEFAULT_WIDTHS) == bucket


def test_resize_auto_is_the_bucketed_shrink_only_resize() -> None:
    hinted = _plan("resize/auto", Hints(width="700"))
    assert hinted.canonical() == "resize/800x>"
    assert hinted.variant("e") == make_plan(parse_pipeline("resize/800x>", 10)).variant("e")
    # a width that may enlarge is another variant: resize/auto never enlarges
    assert hinted.variant("e") != make_plan(parse_pipeline("resize/800x", 10)).variant("e")
    assert _plan("resize/auto", Hints(width="750")) == hinted
    assert _plan("resize/auto", Hints(width="1300")).canonical() == "resize/1600x>"


def test_the_width_hint_is_physical_pixels_whatever_the_dpr() -> None:
    plan = _plan("dpr/auto/resize/auto/crop/100x100", Hints(dpr="2", width="700"))
    assert plan.canonical() == "resize/800x>/crop/200x200"  # the dpr scales the crop only
    plan = _plan("dpr/2/resize/auto/pad/100x50", Hints(width="700"))
    assert plan.canonical() == "resize/800x>/pad/200x100"


def test_the_viewport_width_is_css_pixels_times_the_dpr_buckets() -> None:
    # 390 -> 480 CSS px, DPR 2.625 -> 3: 1440 -> 1600 physical
    plan = _plan("resize/auto", Hints(dpr="2.625", viewport_width="390"))
    assert plan.canonical() == "resize/1600x>"
    assert _plan("resize/auto", Hints(viewport_width="390")).canonical() == "resize/480x>"
    both = Hints(dpr="3", width="300", viewport_width="1900")
    assert _plan("resize/auto", both).canonical() == "resize/320x>"  # the image's own first


def test_without_a_width_hint_the_fallback() -> None:
    assert _plan("resize/auto", Hints(dpr="2")).canonical() == "resize/1280x>"
    assert _plan("resize/auto", Hints(width="0")).canonical() == "resize/1280x>"
    assert _plan("resize/auto/flip/h", Hints(), fallback=0).canonical() == "flip/h"


def test_dpr_auto_scales_later_sizes_by_the_bucket() -> None:
    assert _plan("dpr/auto/resize/300x", Hints(dpr="1.25")).canonical() == "resize/450x"
    assert _plan("dpr/auto/resize/300x", Hints()).canonical() == "resize/300x"
    assert _plan("dpr/auto/resize/300x", Hints(dpr="7")).canonical() == "resize/900x"


@pytest.mark.parametrize(
    ("path", "hints", "vary"),
    [
        ("resize/300x", Hints(dpr="2", width="700", save_data="on"), ()),
        ("dpr/auto/resize/300x", Hints(), ("Sec-CH-DPR", "DPR")),
        ("resize/auto", Hints(width="700"), ("Sec-CH-Width", "Sec-CH-Viewport-Width")),
        ("resize/auto", Hints(), ("Sec-CH-Width", "Sec-CH-Viewport-Width")),
        (
            "resize/auto",
            Hints(viewport_width="500"),
            ("Sec-CH-DPR", "DPR", "Sec-CH-Width", "Sec-CH-Viewport-Width"),
        ),
    ],
)
def test_vary_names_what_was_read(path: str, hints: Hints, vary: tuple[str, ...]) -> None:
    hinted = apply_hints(parse_pipeline(path, 10), hints, DEFAULT_WIDTHS, 1280)
    assert hinted.vary == vary
    assert hinted.hinted == bool(vary)


def test_save_data_lowers_the_default_quality_down_to_a_floor() -> None:
    plan = make_plan(parse_pipeline("resize/300x", 10))
    lowered, depends = with_save_data(plan, Hints(save_data="on"), 15)
    assert depends
    assert [lowered.output_quality(f) for f in ("jpeg", "webp", "avif")] == [70, 65, 45]
    assert lowered.output_quality("png") == 100  # lossless: untouched
    assert with_save_data(plan, Hints(save_data="on"), 50)[0].output_quality("avif") == 30
    assert lowered.variant("e") != plan.variant("e")
    assert with_save_data(plan, Hints(save_data=" ON "), 15)[0] == lowered
    assert with_save_data(plan, Hints(save_data="off"), 15) == (plan, True)


def test_save_data_keeps_a_fixed_quality_and_a_zero_step() -> None:
    fixed = make_plan(parse_pipeline("resize/300x/quality/90", 10))
    assert with_save_data(fixed, Hints(save_data="on"), 15) == (fixed, False)
    plan = make_plan(parse_pipeline("resize/300x", 10))
    assert with_save_data(plan, Hints(save_data="on"), 0) == (plan, False)


def test_save_data_alone_is_no_longer_the_identity() -> None:
    plan, _ = with_save_data(make_plan(()), Hints(save_data="on"), 15)
    assert plan.is_identity is False
