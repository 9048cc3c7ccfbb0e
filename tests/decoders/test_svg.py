"""SVG decoding: the sanitizer's rebuilt document drawn by librsvg at the size asked for,
the same pixels on both engines, and vector sharpness when resized far up."""

from __future__ import annotations

import pytest
import pyvips

from images_server.decoders import decodable, decode
from images_server.decoders.svg import scale_for
from images_server.decoders.target import Target
from images_server.formats.sniff import sniff
from images_server.settings import Settings
from images_server.wiring import in_memory
from tests.images import decode as decode_bytes
from tests.svgs import BLUE, RED, TWO_COLOURS, document, svg_spine


def test_decodes_at_the_declared_size_as_srgb_with_alpha() -> None:
    info = sniff(TWO_COLOURS)
    image = decode(TWO_COLOURS, info)
    assert (image.width, image.height, image.bands) == (100, 100, 4)
    assert (image.format, image.interpretation) == ("uchar", "srgb")
    assert image(10, 10) == list(RED)
    assert image(90, 10) == list(BLUE)


def test_transparent_where_nothing_is_drawn() -> None:
    data = b'<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10">'
    data += b'<rect width="10" height="10"/></svg>'
    image = decode(data, sniff(data))
    assert image(5, 5) == [0, 0, 0, 255]
    assert image(15, 5)[3] == 0


def test_drawn_at_the_target_size() -> None:
    image = decode(TWO_COLOURS, sniff(TWO_COLOURS), Target(2000, 2000))
    assert (image.width, image.height) == (2000, 2000)


def test_a_forced_aspect_ratio_is_drawn_within_four_times_the_target() -> None:
    info = sniff(TWO_COLOURS)
    assert scale_for(info, Target(400, 200)) == 4  # the larger side's scale: 400x400
    scale = scale_for(info, Target(4000, 1))  # 4000x4000 would be 4000 times the target
    assert (100 * scale) ** 2 <= 4 * 4000 * 1 + 1
    assert scale >= 0.01  # never below the smaller side's scale


def test_decodable_hands_the_engines_a_png() -> None:
    png, info = decodable(TWO_COLOURS, sniff(TWO_COLOURS), Target(300, 300))
    assert png.startswith(b"\x89PNG")
    assert (info.format, info.width, info.height, info.has_alpha) == ("png", 300, 300, True)


@pytest.mark.parametrize("engine_name", ["vips", "wand"])
def test_resized_far_up_the_edge_stays_sharp(engine_name: str) -> None:
    """Vector, not a scaled bitmap: a 100 px drawing at 2000 px has a one-pixel edge."""
    out = decode_bytes(svg_spine(engine_name)(TWO_COLOURS, "resize/2000x/format/png"))
    assert (out.width, out.height) == (2000, 2000)
    row = [out(x, 1000)[:3] for x in range(990, 1010)]
    assert row[:10] == [[255, 0, 0]] * 10
    assert row[10:] == [[0, 0, 255]] * 10


def test_a_scaled_bitmap_would_have_blurred_that_edge() -> None:
    """The control: resizing the 100 px raster to 2000 px leaves a wide ramp."""
    raster = decode(TWO_COLOURS, sniff(TWO_COLOURS)).resize(20, kernel="lanczos3")
    ramp = [raster(x, 1000)[0] for x in range(980, 1020)]
    assert sum(1 for red in ramp if 10 < red < 245) > 4


SAME_PIXELS = {
    "two-colours": (TWO_COLOURS, "resize/300x"),
    "gradient": (
        document(
            '<defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/>'
            '<stop offset="1" stop-color="#000" stop-opacity="0.5"/></linearGradient></defs>'
            '<circle cx="50" cy="50" r="40" fill="url(#g)" stroke="#123456" stroke-width="3"/>'
        ),
        "resize/250x/format/png",
    ),
    "crop-then-webp": (TWO_COLOURS, "crop/60x60+20+20/format/webp/quality/100"),
    "no-target": (TWO_COLOURS, "rotate/90/format/png"),
}


@pytest.mark.parametrize(("data", "path"), SAME_PIXELS.values(), ids=SAME_PIXELS.keys())
def test_both_engines_give_the_same_pixels(data: bytes, path: str) -> None:
    vips = rgba(svg_spine("vips")(data, path))
    wand = rgba(svg_spine("wand")(data, path))
    assert (vips.width, vips.height) == (wand.width, wand.height)
    assert (vips - wand).abs().max() <= 1


def rgba(body: bytes) -> pyvips.Image:
    """The output with an alpha band (ImageMagick writes a fully opaque PNG without one)."""
    image = decode_bytes(body)
    return image if image.hasalpha() else image.bandjoin(255)


def test_served_as_png_when_the_url_names_no_format() -> None:
    body = svg_spine("vips")(TWO_COLOURS, "resize/40x")
    assert body.startswith(b"\x89PNG")
    assert decode_bytes(body).hasalpha()


def test_a_render_never_reads_the_svg_through_imagemagick() -> None:
    """ImageMagick's policy refuses SVG outright: the Wand engine only ever gets a PNG."""
    from wand.exceptions import PolicyError
    from wand.image import Image

    import images_server.engines.wand  # noqa: F401  (loads ImageMagick with the policy)

    with pytest.raises(PolicyError), Image(blob=TWO_COLOURS, format="svg"):
        pass


def test_libvips_opens_svg_from_a_buffer_only() -> None:
    in_memory(Settings())  # hardened
    with pytest.raises(pyvips.Error, match="not in a known format"):
        pyvips.Image.new_from_source(pyvips.Source.new_from_memory(TWO_COLOURS), "")
