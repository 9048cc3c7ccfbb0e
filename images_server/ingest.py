"""Admit an original: decide its format from the bytes, enforce limits, decode it fully, store it.

The order is the point: magic bytes (415), then header dimensions and frame count (413)
are checked before any decoder runs, so a decompression bomb costs no memory; the full
decode (422) runs only on images within the limits; only then are the bytes stored, under
their content hash.
"""

from __future__ import annotations

from dataclasses import dataclass

from images_server.engines.sniff import SourceInfo, sniff
from images_server.engines.verify import verify_decodes
from images_server.errors import PayloadTooLarge, TooManyPixels
from images_server.hashing import ImageRef
from images_server.services import Services


@dataclass(frozen=True)
class Admitted:
    ref: ImageRef
    info: SourceInfo
    size: int


def check_image(services: Services, data: bytes) -> SourceInfo:
    """The image's header facts, once it is known to be within limits and to decode."""
    settings = services.settings
    info = sniff(data)
    if info.pixels > settings.max_pixels:
        raise TooManyPixels(
            f"{info.width}x{info.height} is more than the limit of {settings.max_pixels} pixels"
        )
    if info.frames > settings.max_frames:
        raise PayloadTooLarge(
            f"{info.frames} frames is more than the limit of {settings.max_frames} frames"
        )
    verify_decodes(data, info)
    return info


def admit(services: Services, ref: ImageRef, data: bytes) -> Admitted:
    """Check `data` and store it under `ref` (a no-op when those bytes are already stored)."""
    info = check_image(services, data)
    if not services.storage.exists(ref):
        services.storage.put(ref, data)
    return Admitted(ref, info, len(data))
