"""The adjustment ops in the language: parsing, the 400s that name them, normalisation into
the cache key, and their resolved steps (pixelate's regions, radius clamping, a trim's
continuation sized once its box is known and checked against the limits then)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from images_server.errors import InvalidPipeline, OutputTooLarge
from images_server.pipeline.adjust import (
    Brightness,
    Contrast,
    Gamma,
    Hue,
    Pixelate,
    Radius,
    Saturation,
    Trim,
    recolour,
)
from images_server.pipeline.adjust_steps import (
    GammaBy,
    PixelateIn,
    RecolourBy,
    RoundCorners,
    pixelate_regions,
)
from images_server.pipeline.geometry import Box
from images_server.pipeline.parse import parse_pipeline
from images_server.pipeline.plan import make_plan
from images_server.pipeline.steps import CropTo, ResizeTo, TrimThen, after_trim, resolve


def _plan(path: str) -> str:
    return make_plan(parse_pipeline(path, max_ops=10)).canonical()


def test_each_op_parses_to_its_value() -> None:
    ops = parse_pipeline(
        "trim/12/brightness/1.25/contrast/0.5/saturation/2/gamma/2.2/hue/-90/radius/16/pixelate/8",
        max_ops=10,
    )
    assert ops == (Trim(12), Brightness(1.25), Contrast(0.5), Saturation(2.0), Gamma(2.2),
                   Hue(270.0), Radius(16), Pixelate(8))  # fmt: skip
    assert parse_pipeline("radius/max", max_ops=1) == (Radius(None),)
    assert [op.segment() for op in ops][-3:] == ["hue/270", "radius/16", "pixelate/8"]


@pytest.mark.parametrize(
    ("path", "named"),
    [
        ("trim/256", "'trim/256': trim must be a whole number from 0 to 255"),
        ("trim/-1", "'trim/-1'"),
        ("brightness/4.5", "'brightness/4.5': brightness must be a number from 0 to 4"),
        ("contrast/-1", "'contrast/-1'"),
        ("saturation/1e2", "'saturation/1e2'"),
        ("gamma/0", "'gamma/0': gamma must be a number from 0.1 to 10"),
        ("gamma/10.5", "'gamma/10.5'"),
        ("hue/abc", "'hue/abc': degrees must be a number"),
        ("radius/0", "'radius/0': radius must be a whole number from 1 to 10000, or max"),
        ("radius/MAX", "'radius/MAX'"),
        ("pixelate/0", "'pixelate/0': pixelate must be a whole number from 1 to 1000"),
        ("pixelate/2.5", "'pixelate/2.5'"),
    ],
)
def test_bad_arguments_are_named(path: str, named: str) -> None:
    with pytest.raises(InvalidPipeline) as caught:
        parse_pipeline(path, max_ops=10)
    assert named in caught.value.message


def test_no_op_adjustments_leave_the_key_and_dpr_scales_pixel_sizes() -> None:
    assert _plan("brightness/1/contrast/1.000/saturation/1/gamma/1/hue/360/pixelate/1") == ""
    assert _plan("hue/-45") == _plan("hue/315") == "hue/315"
    assert _plan("dpr/2/radius/10/pixelate/4/trim/3") == "radius/20/pixelate/8/trim/3"
    assert _plan("dpr/2/radius/max") == "radius/max"
    assert _plan("brightness/1.5") != _plan("brightness/1.6")


def test_colour_ops_resolve_to_their_matrix() -> None:
    (step,) = resolve(make_plan(parse_pipeline("contrast/0.5", 1)).ops, 10, 10, 100).steps
    assert step == RecolourBy(((0.5, 0, 0), (0, 0.5, 0), (0, 0, 0.5)), (63.75,) * 3)
    grey, _ = recolour(Saturation(0))
    assert all(row == grey[0] for row in grey)  # every channel the same luma
    identity = [1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0]
    assert [v for row in recolour(Hue(0))[0] for v in row] == pytest.approx(identity, abs=1e-9)
    (gamma,) = resolve((Gamma(2.0),), 10, 10, 100).steps
    assert gamma == GammaBy(2.0)


def test_radius_is_clamped_to_half_of_each_side() -> None:
    assert resolve((Radius(30),), 200, 40, 10**6).steps == (RoundCorners(30, 20),)
    assert resolve((Radius(None),), 200, 40, 10**6).steps == (RoundCorners(100, 20),)


def test_pixelate_regions_tile_the_image_in_whole_blocks() -> None:
    regions = pixelate_regions(23, 10, 5)
    assert [(b.box, b.width, b.height) for b in regions] == [
        (Box(0, 0, 20, 10), 5, 5),
        (Box(20, 0, 3, 10), 3, 5),
    ]
    assert resolve((Pixelate(50),), 20, 10, 10**6).steps == (
        PixelateIn(pixelate_regions(20, 10, 50)),
    )


@hypothesis_settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.integers(1, 3000), st.integers(1, 3000), st.integers(1, 1000))
def test_pixelate_regions_always_tile_exactly(width: int, height: int, size: int) -> None:
    regions = pixelate_regions(width, height, size)
    assert sum(b.box.width * b.box.height for b in regions) == width * height
    for blocks in regions:
        assert 1 <= blocks.width <= size
        assert 1 <= blocks.height <= size
        assert blocks.box.width % blocks.width == blocks.box.height % blocks.height == 0
        assert blocks.box.x + blocks.box.width <= width
        assert blocks.box.y + blocks.box.height <= height


def test_a_trim_defers_the_ops_after_it_to_its_box() -> None:
    ops = make_plan(parse_pipeline("resize/100x/trim/5/resize/50%", 10)).ops
    resolved = resolve(ops, 400, 300, 10**6)
    resize, trim = resolved.steps
    assert resize == ResizeTo(100, 75)
    assert isinstance(trim, TrimThen)
    assert after_trim(trim, Box(10, 5, 60, 40), 16383) == (
        CropTo(Box(10, 5, 60, 40)),
        ResizeTo(30, 20),
    )


def test_the_ops_after_a_trim_meet_the_limits_once_the_box_is_known() -> None:
    ops = make_plan(parse_pipeline("trim/0/resize/x1000", 10)).ops
    (trim,) = resolve(ops, 1000, 1000, 2_000_000).steps  # 1000x1000 untrimmed: within
    assert isinstance(trim, TrimThen)
    with pytest.raises(OutputTooLarge, match="'resize/x1000'"):
        after_trim(trim, Box(0, 0, 1000, 10), 65500)  # a strip: 100000x1000
    (unlimited,) = resolve(ops, 1000, 1000, 10**9).steps
    assert isinstance(unlimited, TrimThen)
    with pytest.raises(OutputTooLarge, match=r"'trim/0'.*16383"):
        after_trim(unlimited, Box(0, 0, 1000, 50), 16383)  # 20000x1000: too wide for WebP
