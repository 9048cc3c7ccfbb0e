"""Colour on load for libvips: whatever was decoded leaves as untagged 8-bit sRGB.

An embedded ICC profile is honoured (converted to sRGB, relative colorimetric) and then
removed: the pixels are sRGB, which is what every browser assumes of an untagged image, so
colours stay right without the bytes of a profile in every variant. A CMYK image without a
profile has no defined colours; it gets the plain `(255 - C)(255 - K)` conversion, as
ImageMagick's `-colorspace sRGB` and browsers do, rather than libvips' default press
profile. Greyscale gains its three bands, and 16-bit samples are scaled to 8 bits, never
clamped by a cast.
"""

from __future__ import annotations

import contextlib

import pyvips

_ICC = "icc-profile-data"


def has_profile(image: pyvips.Image) -> bool:
    return bool(image.get_typeof(_ICC))


def is_bare_cmyk(image: pyvips.Image) -> bool:
    """CMYK without a profile: `thumbnail` would guess a press profile, so it is not used."""
    return bool(image.interpretation == "cmyk" and not has_profile(image))


def untagged(image: pyvips.Image) -> pyvips.Image:
    """The same pixels without their (already applied) profile."""
    if not has_profile(image):
        return image
    image = image.copy()
    image.remove(_ICC)
    return image


def to_srgb(image: pyvips.Image) -> pyvips.Image:
    """`image` as untagged 8-bit sRGB with 3 bands, or 4 with alpha."""
    if is_bare_cmyk(image):
        return _naive_cmyk(image)
    if has_profile(image):
        with contextlib.suppress(pyvips.Error):  # a profile lcms refuses is ignored, as browsers do
            image = image.icc_transform("srgb", embedded=True)
        image = untagged(image)
    if image.interpretation != "srgb" or image.format != "uchar":
        image = image.colourspace("srgb")
    return image if image.format == "uchar" else image.cast("uchar")


def _naive_cmyk(image: pyvips.Image) -> pyvips.Image:
    samples = image.cast("float")
    ink, black = samples[:3], samples[3]
    rgb = ((255 - ink) * (255 - black) / 255).rint().cast("uchar")
    if image.bands > 4:
        rgb = rgb.bandjoin(image[4:].cast("uchar"))
    return rgb.copy(interpretation="srgb")
