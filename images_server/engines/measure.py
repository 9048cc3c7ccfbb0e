"""Pixel maths both engines share where they must agree to the pixel: the alpha mask of
rounded corners and the box a trim keeps, both computed by libvips from numbers or raw bytes.

The Wand engine hands its frame's bytes over and gets a box or a mask back, so the two
engines cannot disagree on which pixel is content or how much of a corner is covered; each
engine still moves its own pixels (crop, alpha multiplication, fill). The definitions are in
`pipeline.adjust` (`Trim`, `Radius`).
"""

from __future__ import annotations

import pyvips

from images_server.pipeline.geometry import Box


def _past(position: pyvips.Image, centre: float, straight: float) -> pyvips.Image:
    """How far each pixel centre lies beyond the straight part of the edge (0 within it)."""
    distance = (position + 0.5 - centre).abs() - straight
    return (distance > 0).ifthenelse(distance, 0.0)


def corner_mask(width: int, height: int, rx: float, ry: float) -> pyvips.Image:
    """The coverage of rounded corners of radii `rx`, `ry` as a one-band uchar image (255 =
    covered), rounded to nearest."""
    xy = pyvips.Image.xyz(width, height).cast("float")
    dx = _past(xy[0], width / 2, width / 2 - rx)
    dy = _past(xy[1], height / 2, height / 2 - ry)
    f = (dx / rx) ** 2 + (dy / ry) ** 2 - 1
    g = ((dx / (rx * rx)) ** 2 + (dy / (ry * ry)) ** 2) ** 0.5 * 2
    g = (g > 1e-9).ifthenelse(g, 1e-9)  # at an ellipse's centre f = -1: fully covered
    coverage = 0.5 - f / g
    coverage = (coverage > 1).ifthenelse(1.0, (coverage < 0).ifthenelse(0.0, coverage))
    return (coverage * 255).rint().cast("uchar")


def trim_box(image: pyvips.Image, threshold: int) -> Box | None:
    """The smallest box holding every pixel that differs from the top-left one by more than
    `threshold` in any band (colour premultiplied by alpha, and alpha); None when none does."""
    # colour weighted by alpha: every fully transparent pixel is the same, whatever colour
    # an encoder left in it
    values = image.premultiply() if image.bands == 4 else image.cast("float")
    differs = ((values - values(0, 0)).abs() > threshold).bandor()
    if differs.max() == 0:
        return None
    columns, rows = differs.project()
    xs = [x for x, total in enumerate(columns.tolist()[0]) if total]
    ys = [y for y, [total] in enumerate(rows.tolist()) if total]
    return Box(xs[0], ys[0], xs[-1] - xs[0] + 1, ys[-1] - ys[0] + 1)


def trim_box_of_bytes(
    data: bytes, width: int, height: int, bands: int, threshold: int
) -> Box | None:
    """`trim_box` of raw interleaved 8-bit pixels (RGB or RGBA)."""
    image = pyvips.Image.new_from_memory(data, width, height, bands, "uchar")
    return trim_box(image, threshold)
