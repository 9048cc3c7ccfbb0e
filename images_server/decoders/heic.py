"""HEIC through pillow-heif (libheif with libde265): the primary image, upright, in grey or
RGB of 8 or 16 bits, with its alpha, ICC profile and EXIF.

libvips' own libheif (in the pyvips-binary wheel) decodes AV1 only, so HEVC goes through
pillow-heif, which bundles libheif and the libde265 HEVC decoder; `open_heif` is called
directly (no Pillow plugin is registered). libheif applies the container's transforms
(`clap`, `irot`, `imir`) itself, so the pixels come out upright, and the EXIF orientation
tag, which HEIF says to ignore, is dropped from what the image reports. 10- and 12-bit
images come as 16 bits (scaled to the full range), premultiplied alpha is unpremultiplied.
Only the primary image is decoded: thumbnails, depth maps and other auxiliary images are
switched off in pillow-heif's options, and libheif's own security limits stay on (the
server's limits were checked on the header before this runs).

The EXIF block is set as `exif-data`, which libvips parses into the `exif-*` fields it gives
a JPEG, so `/metadata` reads its allow-listed tags as for any upload; the engines are handed
a PNG with nothing but the ICC profile, so GPS and serials never leave.
"""

from __future__ import annotations

from functools import cache
from types import ModuleType

import pyvips

from images_server.decoders.target import Target
from images_server.errors import UndecodableImage
from images_server.formats.header import SourceInfo

_BANDS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4, "RGBa": 4, "I": 1}
# pillow-heif's errors for bad input, cut-off data, unsupported features, out of memory
_HEIF_ERRORS = (ValueError, EOFError, SyntaxError, RuntimeError, OSError)
_ORIENTATION_FIELDS = ("orientation", "exif-ifd0-Orientation")


@cache
def _pillow_heif() -> ModuleType:
    """pillow-heif, imported at the first HEIC (not by every process: ~9 MB), and set up."""
    import pillow_heif

    pillow_heif.options.THUMBNAILS = False
    pillow_heif.options.DEPTH_IMAGES = False
    pillow_heif.options.AUX_IMAGES = False
    pillow_heif.options.DISABLE_SECURITY_LIMITS = False
    pillow_heif.options.DECODE_THREADS = 2  # a render runs beside others on a few cores
    return pillow_heif


def decode(data: bytes, info: SourceInfo, target: Target | None) -> pyvips.Image:
    try:
        heif = _pillow_heif().open_heif(data, convert_hdr_to_8bit=False)
        primary = heif[heif.primary_index]
        pixels = primary.data  # decoded here
    except _HEIF_ERRORS as exc:
        raise UndecodableImage(f"the HEIC image cannot be decoded: {exc}") from exc
    image = _from_memory(pixels, primary.mode, primary.size)
    icc = primary.info.get("icc_profile")
    if isinstance(icc, bytes) and icc and image.bands >= 3:
        image.set_type(pyvips.GValue.blob_type, "icc-profile-data", icc)
    exif = primary.info.get("exif")
    if isinstance(exif, bytes) and exif:
        _copy_exif(exif, image)
    return image


def _from_memory(pixels: bytes, mode: str, size: tuple[int, int]) -> pyvips.Image:
    """The libvips image of pillow-heif's unpadded buffer (`remove_stride` is its default)."""
    layout, _, depth = mode.partition(";")
    bands = _BANDS.get(layout)
    if bands is None:
        raise UndecodableImage(f"the HEIC image decodes to an unsupported mode {mode}")
    wide = depth == "16"
    image = pyvips.Image.new_from_memory(
        pixels, size[0], size[1], bands, "ushort" if wide else "uchar"
    )
    if layout == "RGBa":
        image = image.unpremultiply().cast("ushort" if wide else "uchar")
    colour = ("rgb16", "srgb") if bands >= 3 else ("grey16", "b-w")
    return image.copy(interpretation=colour[0] if wide else colour[1])


def _copy_exif(exif: bytes, image: pyvips.Image) -> None:
    """Attach `exif`: libvips parses it into the `exif-*` fields as it is set. The
    orientation it states is dropped, as libheif has already turned the pixels upright
    (left in, `thumbnail_image` would turn them again)."""
    if not exif.startswith(b"Exif\x00\x00"):
        exif = b"Exif\x00\x00" + exif
    image.set_type(pyvips.GValue.blob_type, "exif-data", exif)
    for field in _ORIENTATION_FIELDS:
        if image.get_typeof(field):
            image.remove(field)
