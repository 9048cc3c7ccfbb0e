"""Admit an original: decide its format from the bytes, enforce limits, decode it fully, store it.

The order is the point: magic bytes (415), then header dimensions and frame count (413)
are checked before any decoder runs, so a decompression bomb costs no memory; the full
decode (422) runs only on images within the limits; only then are the bytes stored, under
their content hash.

`admit` only stores bytes (external originals, which keep no rows). `admit_upload` is an
upload: the user's quota is checked before the decode too, the metadata of `describe` is
computed once, and `catalog.record_upload` stores bytes and rows together, or neither.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyvips

from images_server import admission, catalog
from images_server.catalog import ImageRecord, Uploader
from images_server.engines.verify import verify_decodes
from images_server.errors import PayloadTooLarge, TooManyPixels
from images_server.formats import WEB_FORMATS, svg
from images_server.formats.sniff import SourceInfo, sniff
from images_server.hashing import ImageRef
from images_server.metadata import describe
from images_server.services import Services
from images_server.settings import Settings


@dataclass(frozen=True)
class Admitted:
    ref: ImageRef
    info: SourceInfo
    size: int
    record: ImageRecord | None = None  # the image's row, for uploads with a database
    new: bool = False  # the bytes were stored by this call (not already there)


def check_header_limits(settings: Settings, info: SourceInfo) -> None:
    """413 for a source too large by its header: pixels, longest side, frames, animation;
    415 for an SVG while SVG is off."""
    svg.refuse_disabled(info, settings.svg_enabled)
    size = f"{info.width}x{info.height}"
    if info.pixels > settings.max_pixels:
        raise TooManyPixels(f"{size} is more than the limit of {settings.max_pixels} pixels")
    if info.decoded_pixels > settings.max_pixels:
        raise TooManyPixels(
            f"{size} decodes to {info.decoded_pixels} pixels (a GIF frame past its screen, an "
            f"AVIF's uncropped size or grid tiles), more than the limit of "
            f"{settings.max_pixels} pixels"
        )
    if max(info.width, info.height) > settings.max_side:
        raise TooManyPixels(f"{size} has a side longer than the limit of {settings.max_side}")
    if info.frames > settings.max_frames:
        raise PayloadTooLarge(
            f"{info.frames} frames is more than the limit of {settings.max_frames} frames"
        )
    # only the web formats decode every frame (a TIFF's pages or a HEIC burst: the first)
    animates = info.format in WEB_FORMATS and info.frames > 1
    if animates and info.decoded_pixels * info.frames > settings.max_animation_pixels:
        raise TooManyPixels(
            f"{info.frames} frames of {size} are more than the limit of "
            f"{settings.max_animation_pixels} pixels for an animation"
        )


@dataclass(frozen=True)
class Checked:
    """An image known to be within limits and to decode: its header facts, and for a format
    of the shared decoders its decoded pixels, for what reads them next (`describe`...)."""

    info: SourceInfo
    decoded: pyvips.Image | None = None


def check_image(services: Services, data: bytes) -> Checked:
    """The image's header facts, once it is known to be within limits and to decode."""
    info = sniff(data)
    check_header_limits(services.settings, info)
    with admission.slot():  # a full decode is a render's worth of CPU and memory
        decoded = verify_decodes(data, info)
    return Checked(info, decoded)


def admit(services: Services, ref: ImageRef, data: bytes) -> Admitted:
    """Check `data` and store it under `ref` (a no-op when those bytes are already stored)."""
    info = check_image(services, data).info
    new = not services.storage.exists(ref)
    if new:
        services.storage.put(ref, data)
    return Admitted(ref, info, len(data), new=new)


def admit_upload(services: Services, ref: ImageRef, data: bytes, uploader: Uploader) -> Admitted:
    """Check `data`, then store it and record the upload, both or neither.

    Without a database (hand-built services) this is `admit`.
    """
    database = services.database
    if database is None:
        return admit(services, ref, data)
    info = sniff(data)
    check_header_limits(services.settings, info)
    catalog.check_quota(services, ref, len(data), uploader.user)  # before the costly decode
    with admission.slot():  # a full decode is a render's worth of CPU and memory
        facts = describe(data, verify_decodes(data, info))
    record, new = catalog.record_upload(services, ref, data, facts, uploader)
    return Admitted(ref, info, len(data), record, new)
