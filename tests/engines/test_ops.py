"""What each pixel op does, on both engines, checked on pixels rather than against convert.

(`tests/golden` compares every op with ImageMagick's output; these tests state the meaning:
a blur smooths, grayscale makes R = G = B, pad fills with the background, and so on.)
"""

from __future__ import annotations

import pyvips

from tests.images import QUADRANTS, decode, encode, near, pixel, quadrant_bytes, quadrant_image
from tests.spine import Spine


def _max_channel_spread(image: pyvips.Image) -> float:
    red, green, blue = image[0], image[1], image[2]
    return float(max((red - green).abs().max(), (green - blue).abs().max()))


def test_blur_smooths_and_sharpen_adds_contrast(spine: Spine) -> None:
    source = quadrant_bytes(120, 80, "png")
    plain = decode(spine(source, "format/png"))
    blurred = decode(spine(source, "blur/4/format/png"))
    sharpened = decode(spine(encode(quadrant_image(120, 80).gaussblur(2), "png"), "sharpen/2"))
    soft = decode(encode(quadrant_image(120, 80).gaussblur(2), "png"))
    assert (blurred.width, blurred.height) == (120, 80)
    assert blurred.deviate() < plain.deviate()
    assert near(pixel(blurred, 10, 10), QUADRANTS["nw"], tolerance=2)  # far from edges
    assert sharpened.deviate() > soft.deviate()


def test_grayscale_sepia_invert(spine: Spine) -> None:
    source = quadrant_bytes(80, 60, "png")
    grey = decode(spine(source, "filter/grayscale")).colourspace("srgb")  # Wand writes 1 band
    assert _max_channel_spread(grey) <= 1
    assert near(pixel(grey, 10, 10), (54, 54, 54), tolerance=2)  # 0.2126 x 255
    sepia = decode(spine(source, "filter/sepia"))
    assert near(pixel(sepia, 10, 10), (100, 89, 69), tolerance=2)  # red through the matrix
    assert near(pixel(sepia, 10, 50), (255, 255, 239), tolerance=2)  # white
    inverted = decode(spine(encode(quadrant_image(80, 60, alpha=True), "png"), "filter/invert"))
    assert near(pixel(inverted, 10, 10), (0, 255, 255), tolerance=2)
    assert inverted(79, 10)[3] == 255  # alpha is not inverted
    assert inverted(0, 10)[3] == 0


def test_pad_centres_on_the_background(spine: Spine) -> None:
    source = quadrant_bytes(400, 300, "png")
    png = decode(spine(source, "pad/200x200"))
    assert (png.width, png.height) == (200, 200)
    assert png(100, 5)[3] == 0  # transparent band above (PNG has alpha)
    assert near(pixel(png, 50, 60), QUADRANTS["nw"])
    jpeg = decode(spine(source, "pad/200x200/format/jpeg"))
    assert near(pixel(jpeg, 100, 5), (255, 255, 255), tolerance=8)
    coloured = decode(spine(source, "background/00ff00/pad/200x200"))
    assert near(pixel(coloured, 100, 5), (0, 255, 0, 255), tolerance=2)


def test_background_fills_rotation_and_flattening(spine: Spine, samples: object) -> None:
    rotated = decode(spine(quadrant_bytes(100, 100, "png"), "rotate/45/background/ff0000"))
    assert near(pixel(rotated, 0, 0), (255, 0, 0, 255), tolerance=2)
    translucent = decode(spine(quadrant_bytes(100, 100, "png"), "background/0000ff80/rotate/45"))
    assert near(pixel(translucent, 0, 0), (0, 0, 255, 128), tolerance=2)
    flattened = decode(
        spine(encode(quadrant_image(60, 40, alpha=True), "png"), "background/000000/format/jpeg")
    )
    assert max(pixel(flattened, 0, 30)) < 12  # transparent column flattened on black


def test_smart_crop_finds_the_subject(spine: Spine) -> None:
    flat = pyvips.Image.black(300, 200).new_from_image([40, 90, 160])
    subject = pyvips.Image.gaussnoise(50, 50, mean=128, sigma=90).cast("uchar")
    scene = flat.insert(subject.bandjoin([subject, subject]), 230, 120)
    out = decode(
        spine(encode(scene.cast("uchar").copy(interpretation="srgb"), "png"), "crop/smart80x80")
    )
    assert (out.width, out.height) == (80, 80)
    assert out.deviate() > 30  # the noisy subject is inside, not the flat sky


def test_dpr_and_presets(spine: Spine) -> None:
    source = quadrant_bytes(400, 300, "png")
    assert decode(spine(source, "dpr/2/resize/100x")).width == 200
    thumb = decode(spine(source, "preset/thumb"))
    assert (thumb.width, thumb.height) == (200, 200)
    assert near(pixel(thumb, 20, 20), QUADRANTS["nw"])
