"""`overlay/<hash>,<options>`: its grammar, its canonical form, and where its copies land.

Placement is pure arithmetic on the headers' sizes, so a table pins it: each gravity's anchor
with its margin, `s<percent>` of the image's width, an overlay larger than the image fitted
inside it, the tile grid, and the limits (an unknown hash, too many copies, `min<width>`).
"""

from __future__ import annotations

import pytest

from images_server.errors import InvalidPipeline
from images_server.pipeline.overlay import MAX_TILES, Overlay, OverlayImage, parse_overlay
from images_server.pipeline.parse import parse_pipeline
from images_server.pipeline.plan import make_plan
from images_server.pipeline.steps import OverlayAt, ResizeTo, resolve

H = "ab" * 32
LOGO = OverlayImage(b"", 200, 100)


def _plan(path: str) -> str:
    return make_plan(parse_pipeline(path, max_ops=10)).canonical()


def test_the_defaults_and_every_option_round_trip() -> None:
    assert parse_overlay(H) == Overlay(H)
    assert Overlay(H).segment() == f"overlay/{H},se,0,o100"
    full = parse_overlay(f"{H},tile,o60,12,s25,nw,min400")
    assert full == Overlay(H, "nw", 12, 60, 25, tile=True, min_width=400)
    assert parse_overlay(full.argument()) == full


def test_equivalent_spellings_share_one_cache_key() -> None:
    assert _plan(f"overlay/{H},o60,se") == _plan(f"overlay/{H},se,0,o60")
    assert _plan(f"overlay/{H}") == _plan(f"overlay/{H},se,o100")
    assert _plan(f"overlay/{H},sw") != _plan(f"overlay/{H},se")


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("abc", "must start with an image's hash"),
        (H.upper(), "must start with an image's hash"),
        (f"{H},up", "unknown overlay option 'up'"),
        (f"{H},o0", "opacity is 1..100"),
        (f"{H},s101", "scale is 1..100"),
        (f"{H},se,nw", "gravity is given twice"),
        (f"{H},5,6", "margin is given twice"),
        (f"{H},", "unknown overlay option ''"),
    ],
)
def test_a_bad_argument_is_a_400_naming_the_segment(arg: str, message: str) -> None:
    with pytest.raises(InvalidPipeline) as caught:
        parse_pipeline(f"resize/100x/overlay/{arg}", max_ops=10)
    assert f"'overlay/{arg}'" in caught.value.message
    assert message in caught.value.message


def _step(arg: str, width: int = 1000, height: int = 600, logo: OverlayImage = LOGO) -> OverlayAt:
    plan = make_plan(parse_pipeline(f"overlay/{arg}", max_ops=10))
    (step,) = resolve(plan.ops, width, height, 10**8, {H: logo}).steps
    assert isinstance(step, OverlayAt)
    return step


@pytest.mark.parametrize(
    ("options", "size", "position"),
    [
        ("", (200, 100), (800, 500)),  # se, no margin
        (",se,10", (200, 100), (790, 490)),
        (",nw,10", (200, 100), (10, 10)),
        (",n,10", (200, 100), (400, 10)),  # centred across, margin from the top
        (",c,10", (200, 100), (400, 250)),  # margins do not move a centre
        (",e,7", (200, 100), (793, 250)),
        (",sw,0", (200, 100), (0, 500)),
        (",s25", (250, 125), (750, 475)),  # a quarter of 1000 wide, aspect kept
        (",s100,c", (1000, 500), (0, 50)),
    ],
)
def test_placement(options: str, size: tuple[int, int], position: tuple[int, int]) -> None:
    step = _step(H + options)
    assert (step.width, step.height) == size
    assert step.positions == (position,)


def test_a_larger_overlay_is_fitted_inside_the_image() -> None:
    step = _step(H, width=300, height=300, logo=OverlayImage(b"", 900, 450))
    assert (step.width, step.height) == (300, 150)


def test_a_scaled_overlay_taller_than_the_image_is_fitted_inside_it_too() -> None:
    step = _step(f"{H},s100", width=1000, height=100, logo=OverlayImage(b"", 10, 10000))
    assert (step.width, step.height) == (1, 100)  # not 1000x1000000 pixels


def test_opacity_is_a_fraction() -> None:
    assert _step(f"{H},o60").opacity == pytest.approx(0.6)


def test_tiles_cover_the_image_from_the_top_left_with_the_margin_between_them() -> None:
    step = _step(f"{H},tile,50", width=1000, height=300)
    assert step.positions == ((0, 0), (250, 0), (500, 0), (750, 0), (0, 150), (250, 150),
                              (500, 150), (750, 150))  # fmt: skip


def test_too_many_tiles_are_refused_before_any_work() -> None:
    with pytest.raises(InvalidPipeline, match=f"at most {MAX_TILES}"):
        _step(f"{H},tile,s1", width=4000, height=4000)


def test_an_unknown_hash_is_a_400_naming_the_op() -> None:
    plan = make_plan(parse_pipeline(f"resize/100x/overlay/{H}", max_ops=10))
    with pytest.raises(InvalidPipeline, match="no stored image has this hash") as caught:
        resolve(plan.ops, 1000, 600, 10**8, {})
    assert f"'overlay/{H},se,0,o100'" in caught.value.message


def test_min_width_leaves_narrower_images_alone() -> None:
    plan = make_plan(parse_pipeline(f"resize/300x/overlay/{H},min400", max_ops=10))
    assert resolve(plan.ops, 1000, 600, 10**8, {H: LOGO}).steps == (ResizeTo(300, 180),)
    plan = make_plan(parse_pipeline(f"resize/500x/overlay/{H},min400", max_ops=10))
    assert len(resolve(plan.ops, 1000, 600, 10**8, {H: LOGO}).steps) == 2


def test_a_device_pixel_ratio_scales_the_margin() -> None:
    assert _plan(f"dpr/2/overlay/{H},nw,10") == f"overlay/{H},nw,20,o100"
