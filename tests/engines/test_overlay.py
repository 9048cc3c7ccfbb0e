"""`overlay` on both engines, against ImageMagick's own `-composite`.

The overlay (the dice PNG, with alpha) is scaled, its alpha multiplied by the opacity, and
laid `over` the photo where `pipeline.overlay.placement` says; `convert` does the same with
explicit sizes and offsets. Each engine must match it within the contract's MAE, and an
opaque square must land on exactly the pixels the placement names.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import pyvips

from tests.engines.test_contract import MAE_LIMIT, im, mae
from tests.images import decode, encode, near, pixel
from tests.spine import Spine


def _store(spine: Spine, data: bytes) -> str:
    spine(data, "")  # the original as stored: `spine` keeps its bytes
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("options", "im_overlay", "geometry"),
    [
        # 600x450 photo; the 300x225 dice at a quarter of its width: 150x112, 10 px from se
        (",se,10,s25", ["-resize", "150x112!"], "+440+328"),
        (",se,10,o60,s25", ["-resize", "150x112!", "-channel", "A", "-evaluate", "multiply",
                            "0.6", "+channel"], "+440+328"),
        (",nw", [], "+0+0"),  # its own size
        (",c,s50", ["-resize", "300x225!"], "+150+112"),
    ],
)  # fmt: skip
def test_overlay_matches_imagemagick(
    spine: Spine, convert: str, samples: Path, options: str, im_overlay: list[str], geometry: str
) -> None:
    photo = samples / "photo-1mp-1200x900.jpg"
    dice = samples / "dice-alpha-300x225.png"
    digest = _store(spine, dice.read_bytes())
    ours = spine(photo.read_bytes(), f"resize/600x/overlay/{digest}{options}/format/png")
    expected = im(convert, photo, "-resize", "600x", "(", str(dice), *im_overlay, ")",
                  "-geometry", geometry, "-compose", "over", "-composite")  # fmt: skip
    assert mae(ours, expected) <= MAE_LIMIT


def _square(size: int, rgb: tuple[int, int, int]) -> bytes:
    image = pyvips.Image.black(size, size).new_from_image(list(rgb)).cast("uchar")
    return encode(image.copy(interpretation="srgb"), "png")


def test_an_opaque_overlay_lands_on_the_pixels_its_placement_names(spine: Spine) -> None:
    base = _square(100, (255, 255, 255))
    red = _store(spine, _square(20, (255, 0, 0)))
    body = spine(base, f"overlay/{red},se,5/format/png")
    assert near(pixel(body, 75, 75), (255, 0, 0), 2)  # the square's first pixel
    assert near(pixel(body, 94, 94), (255, 0, 0), 2)  # its last
    assert near(pixel(body, 74, 74), (255, 255, 255), 2)
    assert near(pixel(body, 95, 95), (255, 255, 255), 2)  # the margin


def test_half_opacity_blends_half_way(spine: Spine) -> None:
    base = _square(40, (255, 255, 255))
    black = _store(spine, _square(40, (0, 0, 0)))
    body = spine(base, f"overlay/{black},o50/format/png")
    assert near(pixel(body, 20, 20), (128, 128, 128), 3)


def test_tiles_repeat_over_the_whole_image(spine: Spine) -> None:
    base = _square(100, (255, 255, 255))
    red = _store(spine, _square(10, (255, 0, 0)))
    body = spine(base, f"overlay/{red},tile,10/format/png")  # a copy every 20 px
    for x, y in ((0, 0), (20, 0), (80, 80), (85, 45)):
        assert near(pixel(body, x, y), (255, 0, 0), 2), (x, y)
    for x, y in ((10, 0), (15, 15), (99, 99)):
        assert near(pixel(body, x, y), (255, 255, 255), 2), (x, y)


def test_an_image_with_alpha_keeps_it_under_the_overlay(spine: Spine, samples: Path) -> None:
    dice = (samples / "dice-alpha-300x225.png").read_bytes()
    red = _store(spine, _square(10, (255, 0, 0)))
    body = spine(dice, f"overlay/{red},nw/format/png")
    image = decode(body)
    assert image.hasalpha()
    assert near(pixel(image, 5, 5), (255, 0, 0, 255), 2)
    assert pixel(image, 299, 224)[3] == pixel(dice, 299, 224)[3]  # untouched, transparent
