"""Choosing the quality per image: `quality/auto`, a perceptual target, by binary search.

The metric is SSIM (Wang et al. 2004: Gaussian window sigma 1.5, K1 0.01, K2 0.03) on the
Rec. 709 luma of the rendered, not yet encoded, pixels against the encoded result decoded
again, both flattened on the output's background; the mean of the SSIM map. It is computed
with libvips (five Gaussian blurs: about 0.1 s for 800x600 on one thread), needs nothing
beyond the engines', and both engines compare through it: the Wand engine hands
ImageMagick's pixels to it, so both choose the same way. SSIMULACRA 2 and butteraugli
track vision better but have no maintained package on PyPI to call from here.

`quality/auto` is the lowest quality on the format's grid (`AUTO`) whose SSIM reaches the
format's target; the grid has 31 steps of 2, so a search encodes at most 5 times (the top of
the grid when nothing reaches the target). Targets and grids were measured on the sample
photos (README, "Automatic quality"): each target is the SSIM the format's default quality
reaches on a typical photo, so `auto` keeps that look, spending fewer bytes where an image
allows and more where it needs them. PNG and GIF are lossless: there is nothing to choose.
A JPEG XL candidate is decoded again by the shared decoder (`decoders.jxl`), libvips having
no JPEG XL loader here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyvips

from images_server.decoders import jxl as jxl_decoder
from images_server.engines.deadline import Deadline
from images_server.formats import jxl
from images_server.observability.metrics import QUALITY_CHOSEN, QUALITY_ENCODES
from images_server.pipeline.ops import OutputFormat, Rgba

_C1 = (0.01 * 255) ** 2
_C2 = (0.03 * 255) ** 2
_SIGMA = 1.5


@dataclass(frozen=True)
class Grid:
    low: int
    high: int
    target: float  # the SSIM to reach
    step: int = 2

    @property
    def qualities(self) -> tuple[int, ...]:
        return tuple(range(self.low, self.high + 1, self.step))


# JPEG 85 reaches 0.976..0.980 on the samples at 800 px wide, WebP 80 0.948..0.976, AVIF 60
# 0.958..0.972; below the grids' floors no sample comes near its target, and at their tops
# every sample passes it (JPEG 96 0.990, WebP 96 0.988, AVIF 80 0.981). JPEG XL 75 reaches
# 0.958..0.985 (median 0.963), 30 at most 0.93 on a photo, 90 at least 0.983.
AUTO: dict[OutputFormat, Grid] = {
    "jpeg": Grid(36, 96, 0.975),
    "webp": Grid(36, 96, 0.965),
    "avif": Grid(20, 80, 0.958),
    "jxl": Grid(30, 90, 0.96),
}


@dataclass(frozen=True)
class Chosen:
    quality: int
    data: bytes
    encodes: int  # encoder runs it took
    score: float | None = None  # the SSIM reached (None: not measured)


Encoder = Callable[[int], bytes]  # the image encoded at a quality


def _luma(image: pyvips.Image, background: Rgba) -> pyvips.Image:
    if image.hasalpha():
        image = image.flatten(background=list(background[:3]))
    if image.bands >= 3:
        return image[:3].cast("float").recomb([[0.2126, 0.7152, 0.0722]])
    return image[0].cast("float")


def _blur(image: pyvips.Image) -> pyvips.Image:
    return image.gaussblur(_SIGMA, precision="float", min_ampl=0.001)


def ssim(a: pyvips.Image, b: pyvips.Image, background: Rgba = (255, 255, 255, 255)) -> float:
    """Mean SSIM of the luma of two 8-bit sRGB images of one size, alpha flattened on
    `background`."""
    if (a.width, a.height) != (b.width, b.height):
        raise ValueError(f"sizes differ: {a.width}x{a.height} and {b.width}x{b.height}")
    x, y = _luma(a, background), _luma(b, background)
    mu_x, mu_y = _blur(x), _blur(y)
    var_x = _blur(x * x) - mu_x * mu_x
    var_y = _blur(y * y) - mu_y * mu_y
    cov = _blur(x * y) - mu_x * mu_y
    numerator = (mu_x * mu_y * 2 + _C1) * (cov * 2 + _C2)
    denominator = (mu_x * mu_x + mu_y * mu_y + _C1) * (var_x + var_y + _C2)
    return float((numerator / denominator).avg())


def decoded(data: bytes) -> pyvips.Image:
    """Encoded output decoded again, every frame of an animation as one strip."""
    if jxl.matches(data[:32]):
        return jxl_decoder.pixels(data)  # no libvips loader: the shared decoder's
    head = pyvips.Image.new_from_buffer(data, "")
    pages = head.get("n-pages") if head.get_typeof("n-pages") else 1
    return pyvips.Image.new_from_buffer(data, "", n=-1) if pages > 1 else head


def auto_quality(
    encode: Encoder,
    reference: pyvips.Image,
    output_format: OutputFormat,
    background: Rgba,
    deadline: Deadline,
) -> Chosen:
    """The lowest quality of the format's grid whose SSIM against `reference` (the pixels
    before encoding) reaches its target; the grid's top when none does."""
    grid = AUTO[output_format]
    qualities = grid.qualities
    low, high, runs = 0, len(qualities) - 1, 0
    best: Chosen | None = None
    last: Chosen | None = None
    while low <= high:
        middle = (low + high) // 2
        data = encode(qualities[middle])
        runs += 1
        deadline.check()  # every run counts against the render's one budget
        last = Chosen(qualities[middle], data, runs, ssim(reference, decoded(data), background))
        if last.score is not None and last.score >= grid.target:
            best, high = last, middle - 1
        else:
            low = middle + 1
    chosen = best or last  # none reached it: `last` is the top of the grid
    assert chosen is not None  # a grid is never empty
    return observed(Chosen(chosen.quality, chosen.data, runs, chosen.score), output_format, "auto")


def observed(chosen: Chosen, output_format: OutputFormat, mode: str) -> Chosen:
    """`chosen`, counted in the metrics of quality searches."""
    QUALITY_ENCODES.labels(output_format, mode).observe(chosen.encodes)
    QUALITY_CHOSEN.labels(output_format, mode).observe(chosen.quality)
    return chosen
