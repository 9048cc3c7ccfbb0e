"""SSIM (Wang et al. 2004) computed with libvips: Gaussian window sigma 1.5, K1 0.01, K2 0.03,
on the Rec. 709 luma of 8-bit sRGB images of the same size; the mean SSIM map."""

from __future__ import annotations

import pyvips

_C1 = (0.01 * 255) ** 2
_C2 = (0.03 * 255) ** 2
_SIGMA = 1.5


def _luma(image: pyvips.Image) -> pyvips.Image:
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255])
    if image.bands >= 3:
        return image[:3].cast("float").recomb([[0.2126, 0.7152, 0.0722]])
    return image[0].cast("float")


def _blur(image: pyvips.Image) -> pyvips.Image:
    return image.gaussblur(_SIGMA, precision="float", min_ampl=0.001)


def ssim(a: pyvips.Image, b: pyvips.Image) -> float:
    if (a.width, a.height) != (b.width, b.height):
        raise ValueError(f"sizes differ: {a.width}x{a.height} and {b.width}x{b.height}")
    x, y = _luma(a), _luma(b)
    mu_x, mu_y = _blur(x), _blur(y)
    var_x = _blur(x * x) - mu_x * mu_x
    var_y = _blur(y * y) - mu_y * mu_y
    cov = _blur(x * y) - mu_x * mu_y
    numerator = (mu_x * mu_y * 2 + _C1) * (cov * 2 + _C2)
    denominator = (mu_x * mu_x + mu_y * mu_y + _C1) * (var_x + var_y + _C2)
    return float((numerator / denominator).avg())


def ssim_bytes(a: bytes, b: bytes) -> float:
    return ssim(pyvips.Image.new_from_buffer(a, ""), pyvips.Image.new_from_buffer(b, ""))
