"""What each adjustment op does, on both engines, on pixels with known values; and that the
two engines give the same answers (within one level) on a real photo with alpha.

(`tests/golden` compares the same ops with ImageMagick's CLI; these state their meaning.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvips

from images_server.errors import InvalidPipeline
from tests.images import QUADRANTS, animation, decode, encode, near, pixel, quadrant_bytes
from tests.spine import Spine, make_spine


def _flat(width: int, height: int, rgb: tuple[int, int, int]) -> pyvips.Image:
    return pyvips.Image.black(width, height).new_from_image(list(rgb)).cast("uchar")


def _framed(border: tuple[int, int, int], noise: int = 0) -> bytes:
    """A 60x40 picture: a border of `border` (+- `noise` per channel, in a checkerboard)
    around a 20x10 red block at x 25, y 12."""
    x, y = pyvips.Image.xyz(60, 40)[0], pyvips.Image.xyz(60, 40)[1]
    jitter = ((x + y) % 2 == 1).ifthenelse(noise, -noise) if noise else 0
    image = (_flat(60, 40, border).cast("int") + jitter).cast("uchar")
    image = image.insert(_flat(20, 10, (220, 20, 20)), 25, 12)
    return encode(image.copy(interpretation="srgb"), "png")


def test_colour_adjustments_do_their_maths(spine: Spine) -> None:
    source = quadrant_bytes(80, 60, "png")  # red, green / white, blue
    assert near(pixel(spine(source, "brightness/0.5"), 10, 10), (127, 0, 0), tolerance=1)
    assert near(pixel(spine(source, "brightness/2"), 10, 50), (255, 255, 255), tolerance=0)
    assert near(pixel(spine(source, "contrast/0"), 10, 10), (127, 127, 127), tolerance=1)
    assert near(pixel(spine(source, "contrast/2"), 10, 10), (255, 0, 0), tolerance=0)
    grey = pixel(spine(source, "saturation/0"), 10, 10)
    assert near(grey, (54, 54, 54), tolerance=1)  # 0.213 x 255
    assert near(pixel(spine(source, "hue/180"), 10, 10), (0, 109, 109), tolerance=2)
    assert near(pixel(spine(source, "hue/360.5"), 10, 50), (255, 255, 255), tolerance=1)
    ramp = encode(_flat(4, 4, (64, 128, 192)).copy(interpretation="srgb"), "png")
    assert near(pixel(spine(ramp, "gamma/2"), 1, 1), (127, 180, 221), tolerance=1)
    assert near(pixel(spine(ramp, "gamma/0.5"), 1, 1), (16, 64, 144), tolerance=1)


def test_adjustments_leave_alpha_alone(spine: Spine) -> None:
    source = quadrant_bytes(80, 60, "png", alpha=True)  # alpha rises from left to right
    before = decode(spine(source, "format/png"))
    for path in ("brightness/1.5", "contrast/2", "saturation/3", "gamma/3", "hue/90"):
        after = decode(spine(source, path))
        assert after.bands == 4
        assert (after[3] - before[3]).abs().max() == 0, path


def test_pixelate_fills_each_block_with_its_mean(spine: Spine) -> None:
    out = decode(spine(quadrant_bytes(80, 60, "png"), "pixelate/30"))
    assert (out.width, out.height) == (80, 60)
    for x0, y0, w, h in [(0, 0, 30, 30), (30, 0, 30, 30), (60, 30, 20, 30)]:
        block = out.crop(x0, y0, w, h)
        assert (block - block(0, 0)).abs().max() == 0  # one colour
    # x 30..59 straddles red (30..39) and green (40..59): one third red, two thirds green
    assert near(pixel(out, 45, 10), (85, 170, 0), tolerance=1)
    assert near(pixel(out, 70, 50), QUADRANTS["se"], tolerance=0)  # the narrower last column


def test_pixelate_weights_colour_by_alpha(spine: Spine) -> None:
    half = _flat(2, 1, (255, 0, 0)).bandjoin(pyvips.Image.new_from_list([[255, 0]]).cast("uchar"))
    half = half.insert(_flat(1, 1, (0, 0, 255)).bandjoin_const([0]), 1, 0)
    out = decode(spine(encode(half.copy(interpretation="srgb"), "png"), "pixelate/2"))
    assert near(pixel(out, 1, 0), (255, 0, 0, 128), tolerance=1)  # the invisible blue counts 0


def test_radius_cuts_transparent_or_background_corners(spine: Spine) -> None:
    source = quadrant_bytes(100, 80, "png")
    png = decode(spine(source, "radius/20"))
    assert png.bands == 4
    assert png(0, 0)[3] == 0
    assert png(99, 79)[3] == 0
    assert png(50, 0)[3] == png(0, 40)[3] == 255  # the straight edges stay
    assert png(6, 6)[3] == 255  # inside the arc: 13.5 * sqrt(2) from its centre, < 20 - 0.5
    assert 0 < png(5, 6)[3] < 255  # on it (19.8 from the centre): anti-aliased
    jpeg = decode(spine(source, "radius/20/format/jpeg"))
    assert near(pixel(jpeg, 1, 1), (255, 255, 255), tolerance=30)  # not red: JPEG rings
    coloured = decode(spine(source, "background/00ff00/radius/20"))
    assert near(pixel(coloured, 0, 0), (0, 255, 0, 255), tolerance=1)


def test_radius_max_makes_a_circle_of_a_square(spine: Spine) -> None:
    out = decode(spine(quadrant_bytes(64, 64, "png"), "radius/max"))
    alpha = out[3]
    assert alpha(32, 0)[0] > 128
    assert alpha(0, 32)[0] > 128
    assert alpha(32, 32)[0] == 255
    assert alpha(8, 8)[0] == 0  # 23.5 * sqrt(2) = 33.2 from the centre: outside
    assert alpha(10, 10)[0] == 255  # 30.4: inside
    covered = alpha.avg() / 255 * 64 * 64
    assert covered == pytest.approx(3.14159 * 32 * 32, rel=0.01)


def test_trim_keeps_the_content_box(spine: Spine) -> None:
    out = decode(spine(_framed((255, 255, 255)), "trim/0"))
    assert (out.width, out.height) == (20, 10)
    assert near(pixel(out, 0, 0), (220, 20, 20), tolerance=0)
    noisy = _framed((200, 200, 200), noise=6)
    assert (decode(spine(noisy, "trim/10")).width, decode(spine(noisy, "trim/10")).height) == (
        20,
        10,
    )
    assert decode(spine(noisy, "trim/3")).width == 60  # the noise is content at 3


def test_the_ops_after_a_trim_are_sized_for_its_box(spine: Spine) -> None:
    out = decode(spine(_framed((255, 255, 255)), "trim/0/resize/200%/crop/n30x5"))
    assert (out.width, out.height) == (30, 5)
    flat = encode(_flat(30, 20, (9, 9, 9)).copy(interpretation="srgb"), "png")
    whole = decode(spine(flat, "trim/50/resize/60x"))  # nothing but border: kept whole
    assert (whole.width, whole.height) == (60, 40)


def test_trim_on_an_animation_that_stays_animated_is_a_400(spine: Spine) -> None:
    frames = [_flat(20, 20, (255, 0, 0)), _flat(20, 20, (0, 0, 255))]
    data = animation([f.copy(interpretation="srgb") for f in frames], "gif", [100, 100])
    with pytest.raises(InvalidPipeline, match="trim/0"):
        spine(data, "trim/0")
    assert decode(spine(data, "trim/0/format/png")).width == 20  # the first frame alone


# (pipeline, mean, max): the largest difference allowed per channel, colour weighted by
# alpha; each op alone is within one level (truncation of the same float maths); ops in a row
# add their levels; a resize or a JPEG encoder brings its own engine's kernel or noise
PIPELINES = [
    *((path, 0.2, 1) for path in ("brightness/1.3", "contrast/1.7", "saturation/2.5",
                                  "gamma/1.8", "hue/75", "pixelate/9", "radius/25",
                                  "radius/max", "trim/30")),
    ("pixelate/7/radius/10/hue/200", 0.2, 2),
    ("trim/0/resize/120x", 1.5, 80),
    ("resize/150x/radius/max/format/jpeg", 2.5, 80),
]  # fmt: skip


@pytest.mark.parametrize(("path", "mean", "most"), PIPELINES)
def test_both_engines_give_the_same_answer(
    samples: Path, path: str, mean: float, most: float
) -> None:
    data = (samples / "dice-alpha-300x225.png").read_bytes()
    vips, wand = (decode(make_spine(name)(data, path)) for name in ("vips", "wand"))
    assert (vips.width, vips.height, vips.bands) == (wand.width, wand.height, wand.bands)
    alpha = vips[3].cast("float") if vips.bands == 4 else 255
    difference = (vips.cast("float") - wand).abs() * alpha / 255  # hidden colour is free
    assert difference.avg() <= mean, path
    assert difference.max() <= most, path
