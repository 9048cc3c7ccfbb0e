"""Plain JPEGs decoded by libjpeg-turbo's own API (TurboJPEG), into libvips: `decode_scaled`.

libvips decodes a JPEG through libjpeg's scanline API in strips, with its own source and
region machinery around it; the TurboJPEG API decodes the same file to the same pixels in one
call (ctypes lets go of the GIL for it) in about 60% of the time on the development machine:
3.3 ms instead of 5.6 for the 12 MP photo's 1000 px derivative copy, 2.1 instead of 3.1 for the
1 MP photo at 1/4; a whole render (decode, resize, encode; one libvips thread) 9.1 → 8.1 ms and
3.8 → 3.3 ms. Both are libjpeg-turbo with its accurate integer IDCT and fancy upsampling, so
the pixels are identical, scaled or not (tests/engines/test_jpeg_decoding.py); libjpeg rounds
a scaled size up where libvips rounds it down, so the extra row or column is cut off.

The library is the system's `libturbojpeg` (Debian's `libturbojpeg0`, which
scripts/install-system-deps.sh installs), called through ctypes: simplejpeg and PyTurboJPEG
hand back numpy arrays, and numpy (with OpenBLAS) preloaded in gunicorn's master cost 14 MB
of every server's memory. Without the library every JPEG is libvips' as before.

Only JPEGs whose decode is nothing but pixels take this path: 8-bit greyscale or YCbCr (or RGB)
without an ICC profile or an EXIF orientation to apply, decoded to at most `MAX_PIXELS` (it is
held whole, where libvips streams). The header libvips already read says so. Anything else,
and any error or warning from libjpeg-turbo, is left to libvips, whose handling of broken
files the engine already has.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import pyvips

from images_server.engines.vips.colour import has_profile

MAX_PIXELS = 4_000_000  # decoded pixels held at once (12 MB of RGB)
# turbojpeg.h's pixel formats, for what libvips read in the header: three components (YCbCr
# or RGB) or one (grey); CMYK, YCCK and anything else are libvips' own.
_PIXEL_FORMATS = {("srgb", 3): 0, ("b-w", 1): 6}  # TJPF_RGB, TJPF_GRAY


class _TurboJpeg:
    """The few TurboJPEG calls used, on decompressor handles kept for reuse (one per decode
    running at once)."""

    def __init__(self, library: ctypes.CDLL) -> None:
        self._init = library.tjInitDecompress
        self._init.restype = ctypes.c_void_p
        self._init.argtypes = []
        self._decompress = library.tjDecompress2
        self._decompress.restype = ctypes.c_int
        self._decompress.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_ulong,
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int,
        ]
        self._free: list[int] = []  # decompressor handles not in use; as many as decoded at once
        self._lock = threading.Lock()

    @contextmanager
    def _handle(self) -> Iterator[int | None]:
        with self._lock:
            handle: int | None = self._free.pop() if self._free else None
        if handle is None:
            handle = self._init() or None
        try:
            yield handle
        finally:
            if handle is not None:
                with self._lock:
                    self._free.append(handle)

    def decode(
        self, data: bytes, width: int, height: int, bands: int, pixel_format: int
    ) -> bytearray | None:
        """`data` decoded at the libjpeg scale that gives exactly `width` x `height`."""
        pixels = bytearray(width * height * bands)
        target = (ctypes.c_ubyte * len(pixels)).from_buffer(pixels)
        address, pitch = ctypes.addressof(target), width * bands
        with self._handle() as handle:
            status = (
                -1
                if handle is None
                else self._decompress(
                    handle, data, len(data), address, width, pitch, height, pixel_format, 0
                )
            )
        del target  # the bytearray may be handed on only once nothing exports it
        return pixels if status == 0 else None


@cache
def library() -> _TurboJpeg | None:
    """TurboJPEG from the system's libturbojpeg, or None where it is not installed."""
    name = ctypes.util.find_library("turbojpeg")
    if name is None:
        return None
    try:
        return _TurboJpeg(ctypes.CDLL(name))
    except (OSError, AttributeError):
        return None


def decode_scaled(data: bytes, head: pyvips.Image, scale: int) -> pyvips.Image | None:
    """`data` (a JPEG whose header libvips read as `head`) decoded at 1/`scale` (1, 2 or 4),
    exactly as `new_from_buffer(data, "", shrink=scale)` would decode it; None when this
    JPEG is not a plain one, or will not decode here."""
    turbo = library()
    pixel_format = _PIXEL_FORMATS.get((head.interpretation, head.bands))
    width, height = head.width // scale, head.height // scale
    if (
        turbo is None
        or pixel_format is None
        or head.format != "uchar"
        or has_profile(head)
        or _orientation(head) != 1
        or width * height > MAX_PIXELS
    ):
        return None
    columns, rows = math.ceil(head.width / scale), math.ceil(head.height / scale)
    pixels = turbo.decode(data, columns, rows, head.bands, pixel_format)
    if pixels is None:
        return None
    image = pyvips.Image.new_from_memory(pixels, columns, rows, head.bands, "uchar")
    if (columns, rows) != (width, height):
        image = image.crop(0, 0, width, height)
    return image.copy(interpretation=head.interpretation, xres=head.xres, yres=head.yres)


def _orientation(head: pyvips.Image) -> int:
    return int(head.get("orientation")) if head.get_typeof("orientation") else 1
