"""Resolving ops against an image's size: concrete steps, no-ops dropped, limits enforced."""

from __future__ import annotations

import pytest

from images_server.errors import InvalidPipeline, OutputTooLarge
from images_server.pipeline.geometry import Box
from images_server.pipeline.parse import parse_pipeline
from images_server.pipeline.plan import make_plan
from images_server.pipeline.steps import (
    BlurBy,
    CropTo,
    FilterWith,
    FlipAxes,
    PadTo,
    ResizeTo,
    Resolved,
    RotateBy,
    SharpenBy,
    resolve,
)


def resolved(path: str, width: int, height: int, max_pixels: int = 10**9) -> Resolved:
    return resolve(make_plan(parse_pipeline(path, max_ops=10)).ops, width, height, max_pixels)


def test_sizes_flow_from_step_to_step() -> None:
    result = resolved("resize/400x400/crop/n100x100/rotate/90/flip/h", 4000, 3000)
    assert result.steps == (
        ResizeTo(400, 300),
        CropTo(Box(150, 0, 100, 100)),
        RotateBy(90.0, 100, 100),
        FlipAxes(horizontal=True, vertical=False),
    )
    assert (result.width, result.height) == (100, 100)


def test_no_op_resize_and_full_crop_are_dropped() -> None:
    assert resolved("resize/300x200/crop/300x200", 300, 200).steps == ()
    assert resolved("resize/300x200>", 100, 50).steps == ()


def test_rotation_swaps_sizes_for_later_steps() -> None:
    result = resolved("rotate/90/resize/x100", 400, 200)
    assert result.steps[-1] == ResizeTo(50, 100)


def test_output_over_the_limit_names_the_op() -> None:
    with pytest.raises(OutputTooLarge, match="'resize/20000x20000!'"):
        resolved("resize/20000x20000!", 100, 100, max_pixels=50_000_000)


def test_intermediate_size_is_limited_too() -> None:
    with pytest.raises(OutputTooLarge, match="'resize/10000x10000'"):
        resolved("resize/10000x10000/crop/c10x10", 100, 100, max_pixels=50_000_000)


def test_crop_outside_the_image_is_a_bad_pipeline() -> None:
    with pytest.raises(InvalidPipeline, match="'crop/10x10\\+500\\+0'"):
        resolved("crop/10x10+500+0", 100, 100)


def test_pad_fits_without_enlarging_then_centres() -> None:
    assert resolved("pad/200x200", 400, 100).steps == (ResizeTo(200, 50), PadTo(200, 200, 0, 75))
    assert resolved("pad/300x300", 100, 50).steps == (PadTo(300, 300, 100, 125),)
    assert resolved("pad/150x150", 75, 75).steps == (PadTo(150, 150, 38, 38),)  # as -extent
    assert resolved("pad/100x50", 100, 50).steps == ()


def test_pixel_ops_keep_the_size() -> None:
    result = resolved("blur/2/sharpen/1/filter/sepia", 30, 20)
    assert result.steps == (BlurBy(2.0), SharpenBy(1.0), FilterWith("sepia"))
    assert (result.width, result.height) == (30, 20)


def test_pad_over_the_output_limit_names_the_op() -> None:
    with pytest.raises(OutputTooLarge, match="'pad/9000x9000'"):
        resolved("pad/9000x9000", 10, 10, max_pixels=50_000_000)
