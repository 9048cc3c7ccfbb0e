"""Everything the server knows about its image formats, in one place.

Here: their names (`ImageFormat` for what may be uploaded, `OutputFormat` for what may be
written, `TITLES` as people write them), media types and file extensions. `sniff` tells
a file's format and size from its header alone; `strip` rewrites an original without its
metadata; one module per format (`jpeg`, `png`, `webp`, `gif`, `avif`, ...) holds that
format's magic bytes, its walk over segments, chunks, blocks, boxes or tags, and what both
of them read and keep from it, so the sniffer and the stripper share one walker. `exif`
reads and writes the orientation tag. Nothing here imports an image library: sniffing runs
before any decoder.

The five *web formats* are what browsers show and what an original may be served as. The
other inputs (HEIC, TIFF, JPEG XL, SVG) are decoded by `images_server.decoders` and, when a
URL names no format, served in a web format (`served_format`).
"""

from __future__ import annotations

from typing import Literal

WebFormat = Literal["jpeg", "png", "webp", "avif", "gif"]
OutputFormat = Literal["jpeg", "png", "webp", "avif", "gif", "jxl"]
ImageFormat = Literal["jpeg", "png", "webp", "avif", "gif", "heic", "tiff", "jxl", "svg"]

WEB_FORMATS: tuple[WebFormat, ...] = ("jpeg", "png", "webp", "avif", "gif")
OUTPUT_FORMATS: tuple[OutputFormat, ...] = (*WEB_FORMATS, "jxl")  # JPEG XL: on request only
INPUT_FORMATS: tuple[ImageFormat, ...] = (*WEB_FORMATS, "heic", "tiff", "jxl", "svg")

MEDIA_TYPES: dict[str, str] = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "avif": "image/avif",
    "heic": "image/heic",
    "tiff": "image/tiff",
    "jxl": "image/jxl",
    "svg": "image/svg+xml",
}

TITLES: dict[str, str] = {
    "jpeg": "JPEG",
    "png": "PNG",
    "webp": "WebP",
    "avif": "AVIF",
    "gif": "GIF",
    "heic": "HEIC",
    "tiff": "TIFF",
    "jxl": "JPEG XL",
    "svg": "SVG",
}
"""How a person writes each name (the web UI, the docs)."""

EXTENSIONS: dict[str, str] = {
    "jpeg": "jpg",
    "png": "png",
    "webp": "webp",
    "gif": "gif",
    "avif": "avif",
    "heic": "heic",
    "tiff": "tif",
    "jxl": "jxl",
    "svg": "svg",
}

SOURCE_FORMAT = "source"
"""Where a format may be chosen ahead of time (eager variants), the source's own format."""


def served_format(source: ImageFormat, has_alpha: bool) -> OutputFormat:
    """What a variant of a `source` image is written as when its URL names no format: the
    source's own for the web formats; otherwise PNG where there is alpha (and for SVG,
    drawings) and JPEG for the rest, since most browsers show neither HEIC, TIFF nor JXL."""
    if source in WEB_FORMATS:
        return source
    if has_alpha or source == "svg":
        return "png"
    return "jpeg"


def media_type_of_extension(extension: str) -> str | None:
    """The media type of a file extension this server writes (`jpg`), or None."""
    for fmt, known in EXTENSIONS.items():
        if known == extension:
            return MEDIA_TYPES[fmt]
    return None
