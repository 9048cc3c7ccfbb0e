"""Colour on load for ImageMagick: each frame leaves as untagged 8-bit sRGB, as with libvips.

An embedded ICC profile is converted to sRGB with lcms, relative colorimetric (libvips'
default intent), using the same sRGB profile libvips builds in, so both engines land on the
same pixels. Wand only offers `MagickSetImageProfile`, which re-tags without converting, so
`MagickProfileImage` is bound here. The profile is then stripped with every other profile
(EXIF, XMP, IPTC): the pixels are sRGB, which browsers assume of untagged images. A CMYK
image without a profile gets ImageMagick's plain `-colorspace sRGB` conversion; greyscale
and palette images become true colour, and 16-bit samples are scaled to 8 bits.
"""

from __future__ import annotations

import ctypes

import pyvips
from wand.api import library
from wand.image import Image

SRGB_PROFILE = bytes(pyvips.Image.profile_load("srgb"))

library.MagickProfileImage.argtypes = [
    ctypes.c_void_p,
    ctypes.c_char_p,
    ctypes.c_void_p,
    ctypes.c_size_t,
]
library.MagickProfileImage.restype = ctypes.c_bool


def to_srgb(frame: Image) -> None:
    """Convert `frame` in place to untagged 8-bit sRGB, without any profile."""
    if frame.profiles["icc"]:
        frame.rendering_intent = "relative"
        if not library.MagickProfileImage(frame.wand, b"icc", SRGB_PROFILE, len(SRGB_PROFILE)):
            library.MagickClearException(frame.wand)  # lcms refused it: ignored, as by browsers
    if frame.colorspace != "srgb":
        frame.transform_colorspace("srgb")
    frame.strip()
    frame.depth = 8
    frame.type = "truecolormatte" if frame.alpha_channel else "truecolor"
