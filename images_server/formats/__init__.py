"""Everything the server knows about its five image formats, in one place.

Here: their names (`ImageFormat`, `FORMATS`, and `TITLES` as people write them), media types
and file extensions. `sniff` tells
a file's format and size from its header alone; `strip` rewrites an original without its
metadata; one module per format (`jpeg`, `png`, `webp`, `gif`, `avif`) holds that format's
magic bytes, its walk over segments, chunks, blocks or boxes, and what both of them read and
keep from it, so the sniffer and the stripper share one walker. `exif` reads and writes the
orientation tag. Nothing here imports an image library: sniffing runs before any decoder.
"""

from __future__ import annotations

from typing import Literal

ImageFormat = Literal["jpeg", "png", "webp", "avif", "gif"]

FORMATS: tuple[ImageFormat, ...] = ("jpeg", "png", "webp", "avif", "gif")

MEDIA_TYPES: dict[str, str] = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "avif": "image/avif",
}

TITLES: dict[str, str] = {
    "jpeg": "JPEG",
    "png": "PNG",
    "webp": "WebP",
    "avif": "AVIF",
    "gif": "GIF",
}
"""How a person writes each name (the web UI, the docs)."""

EXTENSIONS: dict[str, str] = {
    "jpeg": "jpg",
    "png": "png",
    "webp": "webp",
    "gif": "gif",
    "avif": "avif",
}

SOURCE_FORMAT = "source"
"""Where a format may be chosen ahead of time (eager variants), the source's own format."""


def media_type_of_extension(extension: str) -> str | None:
    """The media type of a file extension this server writes (`jpg`), or None."""
    for fmt, known in EXTENSIONS.items():
        if known == extension:
            return MEDIA_TYPES[fmt]
    return None
