"""TIFF through libvips (libtiff): the first page, upright, in grey or RGB of 8 or 16 bits.

CMYK is converted to sRGB through its embedded profile (or libvips' default CMYK profile);
Lab, float and 32-bit pages are brought to 8-bit sRGB; any extra channel beyond the alpha is
dropped. `fail_on="error"`: a strip that is cut short is an error, not grey pixels.
"""

from __future__ import annotations

import pyvips

from images_server.decoders.target import Target
from images_server.formats.header import SourceInfo
from images_server.formats.tiff import check_blocks

_INTEGER_FORMATS = ("uchar", "ushort")


def decode(data: bytes, info: SourceInfo, target: Target | None) -> pyvips.Image:
    check_blocks(data)
    image = pyvips.Image.tiffload_buffer(data, page=0, fail_on="error").autorot()
    return web_ready(image)


def web_ready(image: pyvips.Image) -> pyvips.Image:
    """`image` as grey or RGB, with or without alpha, 8 or 16 bits: what PNG can hold."""
    if image.interpretation == "cmyk":
        image = image.icc_transform("srgb", embedded=True, input_profile="cmyk")
    elif image.interpretation in ("lab", "labs", "lch", "cmc", "xyz", "yxy", "hsv", "scrgb"):
        image = image.colourspace("srgb")
    if image.format not in _INTEGER_FORMATS:  # 32-bit or floating point samples
        image = image.cast("double").scaleimage()
    colour = 3 if image.bands >= 3 else 1
    alpha = image.hasalpha() and image.bands > colour
    image = image.extract_band(0, n=colour + int(alpha))
    if colour == 3:
        interpretation = "rgb16" if image.format == "ushort" else "srgb"
    else:
        interpretation = "grey16" if image.format == "ushort" else "b-w"
    return image.copy(interpretation=interpretation)
