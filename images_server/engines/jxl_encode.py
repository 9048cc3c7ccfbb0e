"""JPEG XL encoding through libjxl (`imagecodecs`), shared by both engines.

Neither libvips' binary wheel nor Debian's ImageMagick writes JPEG XL, so both engines hand
their finished pixels here (8 or 16 bits, grey or RGB, with or without alpha). The output is
a bare codestream: no container, hence no `Exif`, `xml ` or `jbrd` box can ride along, and
no ICC profile (the engines' pixels are untagged sRGB, which is JPEG XL's default).

Effort 5 of libjxl's 1..9 was chosen by measurement (README, "Encoder effort"): effort 3
takes a fifth of the time but needs 13% more bytes for the same SSIM, and 7 takes half as
long again for no fewer bytes; JPEG XL is asked for to save bytes, so the bytes won. One
thread per encode: renders already run one per core (`IMAGES_MAX_CONCURRENT_RENDERS`).
Quality 1..99 is libjxl's quality scale (distance 0.1 + (100 - quality) * 0.09 above 30),
100 is lossless.

Memory: libjxl holds several planes of floats per pixel while it encodes; its peak was
measured at 245 MB above the input for 12 MP at effort 5, in 2.1 s on one thread (280 MB for
24 MP, 140 MB for 3 MP; effort 3 would take 190 MB); `MAX_PIXELS` bounds an output's area so
that one encode stays under about 300 MB.
"""

from __future__ import annotations

from images_server.errors import UndecodableImage

EFFORT = 5
MAX_PIXELS = 25_000_000  # larger outputs are refused (400): about 280 MB to encode
LOSSLESS = 100
_THREADS = 1


def encode(
    pixels: bytes,
    width: int,
    height: int,
    bands: int,
    quality: int,
    sixteen_bits: bool = False,
    effort: int = EFFORT,
) -> bytes:
    """Interleaved `pixels` (1 to 4 bands: grey, grey+alpha, RGB, RGBA) as a JPEG XL
    codestream, at `quality` (100: lossless); `effort` is for `make bench-encoders`.

    imagecodecs and NumPy are imported here, at the first JPEG XL, not by every process."""
    import imagecodecs
    import numpy as np

    dtype = np.uint16 if sixteen_bits else np.uint8
    shape = (height, width, bands) if bands > 1 else (height, width)  # grey: 2 dimensions
    array = np.frombuffer(pixels, dtype=dtype).reshape(shape)
    try:
        if quality >= LOSSLESS:
            data = imagecodecs.jpegxl_encode(
                array, lossless=True, effort=effort, numthreads=_THREADS
            )
        else:
            data = imagecodecs.jpegxl_encode(
                array, level=quality, effort=effort, numthreads=_THREADS
            )
    except imagecodecs.JpegxlError as exc:
        raise UndecodableImage(f"the JPEG XL encoder failed: {exc}") from exc
    return bytes(data)


def transcode_jpeg(jpeg: bytes) -> bytes:
    """`jpeg` recompressed losslessly: its DCT coefficients kept, so that the exact JPEG can be
    rebuilt from the result (libjxl's `jbrd` reconstruction data, hence a container). Pass a
    JPEG stripped of its metadata: whatever APPn segments it has are in that data."""
    import imagecodecs

    try:
        return bytes(imagecodecs.jpegxl_encode_jpeg(jpeg, numthreads=_THREADS))
    except imagecodecs.JpegxlError as exc:
        raise UndecodableImage(f"the JPEG cannot be recompressed as JPEG XL: {exc}") from exc
