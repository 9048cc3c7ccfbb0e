"""Pixel maths both engines share where they must agree to the pixel: the alpha mask of
rounded corners and the box a trim keeps, both computed by libvips from numbers or raw bytes.

The Wand engine hands its frame's bytes over and gets a box or a mask back, so the two
engines cannot disagree on which pixel is content or how much of a corner is covered; each
engine still moves its own pixels (crop, alpha multiplication, fill). The definitions are in
`pipeline.adjust` (`Trim`, `Radius`).
"""

from __future__ import annotations

import math

import pyvips

from images_server.pipeline.geometry import Box


def _corner(width: int, height: int, rx: float, ry: float) -> pyvips.Image:
    """The top-left corner's coverage, `width` x `height` pixels from the image's corner."""
    xy = pyvips.Image.xyz(width, height).cast("float")
    dx, dy = rx - 0.5 - xy[0], ry - 0.5 - xy[1]  # past the straight edges, towards the corner
    dx, dy = (dx > 0).ifthenelse(dx, 0.0), (dy > 0).ifthenelse(dy, 0.0)
    f = (dx / rx) ** 2 + (dy / ry) ** 2 - 1
    g = ((dx / (rx * rx)) ** 2 + (dy / (ry * ry)) ** 2) ** 0.5 * 2
    g = (g > 1e-9).ifthenelse(g, 1e-9)  # at an ellipse's centre f = -1: fully covered
    coverage = 0.5 - f / g
    coverage = (coverage > 1).ifthenelse(1.0, (coverage < 0).ifthenelse(0.0, coverage))
    return (coverage * 255).rint().cast("uchar")


def corner_mask(width: int, height: int, rx: float, ry: float) -> pyvips.Image:
    """The coverage of rounded corners of radii `rx`, `ry` (at most half of each side) as a
    one-band uchar image (255 = covered), rounded to nearest.

    Only the ceil(rx) x ceil(ry) pixels of each corner can be uncovered (beyond them the
    coverage formula gives at least 1), and the corners mirror each other: one is computed,
    the others are its flips (a quarter of the maths for `radius/max`, far less otherwise).
    """
    corner = _corner(math.ceil(rx), math.ceil(ry), rx, ry)
    mask = pyvips.Image.black(width, height).new_from_image(255).cast("uchar")
    right, bottom = width - corner.width, height - corner.height
    mask = mask.insert(corner, 0, 0).insert(corner.fliphor(), right, 0)
    return mask.insert(corner.flipver(), 0, bottom).insert(corner.rot180(), right, bottom)


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
