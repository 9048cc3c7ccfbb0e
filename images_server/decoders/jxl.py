"""JPEG XL through libjxl (`imagecodecs`): the first frame, upright, in 8 or 16 bits.

libjxl applies the codestream's orientation itself and composites an animation's first
frame; floating-point samples (HDR, 16- or 32-bit floats) are brought to 16 bits. A file cut
short or corrupt fails here (`UndecodableImage`), never with grey pixels. The pixels are
taken as sRGB: `imagecodecs` does not hand over the ICC profile or colour encoding, and
libjxl returns an XYB (lossy) image in its declared colour space, which for nearly every
file is sRGB (see docs/formats.md). One thread, as the encoder.
"""

from __future__ import annotations

import pyvips

from images_server.decoders.target import Target
from images_server.decoders.tiff import web_ready
from images_server.errors import UndecodableImage
from images_server.formats.header import SourceInfo

_THREADS = 1
_FORMATS = {"uint8": "uchar", "uint16": "ushort"}


def decode(data: bytes, info: SourceInfo, target: Target | None) -> pyvips.Image:
    return pixels(data)


def pixels(data: bytes) -> pyvips.Image:
    """The first frame of a JPEG XL file, upright, as `decode` gives it; `engines.quality`
    measures a `quality/auto` candidate through it too (libvips cannot read JPEG XL).

    imagecodecs and NumPy are imported here, at the first JPEG XL, not by every process."""
    import imagecodecs
    import numpy as np

    try:
        array = imagecodecs.jpegxl_decode(data, index=0, numthreads=_THREADS)
    except imagecodecs.JpegxlError as exc:
        raise UndecodableImage(f"the JPEG XL image cannot be decoded: {exc}") from exc
    if array.dtype.name not in _FORMATS:  # floating point samples, 0..1
        array = (np.clip(array.astype(np.float32), 0.0, 1.0) * 65535.0 + 0.5).astype(np.uint16)
    height, width = array.shape[:2]
    bands = array.shape[2] if array.ndim == 3 else 1
    image = pyvips.Image.new_from_memory(
        np.ascontiguousarray(array).tobytes(), width, height, bands, _FORMATS[array.dtype.name]
    )
    sixteen = image.format == "ushort"
    if bands >= 3:
        interpretation = "rgb16" if sixteen else "srgb"
    else:
        interpretation = "grey16" if sixteen else "b-w"
    return web_ready(image.copy(interpretation=interpretation))
