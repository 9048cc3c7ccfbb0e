"""libvips engine internals: decode (shrink-on-load through `thumbnail_buffer`), encode.

libvips is set up for a server at import: its operation cache off (every request is a new
image), one worker thread per operation (gunicorn runs one process per core), and loaders
marked untrusted blocked, so only the five sniffed formats are ever parsed.
"""

from __future__ import annotations

import pyvips

from images_server.engines.base import Output, first_resize
from images_server.engines.sniff import SourceInfo
from images_server.engines.vips.steps import apply_step
from images_server.errors import UndecodableImage
from images_server.pipeline.steps import Resolved

pyvips.cache_set_max(0)
pyvips.concurrency_set(1)
pyvips.block_untrusted_set(True)


def _load(data: bytes, info: SourceInfo, resolved: Resolved) -> tuple[pyvips.Image, int]:
    """The upright source, and how many leading steps decoding already did."""
    resize = first_resize(resolved)
    if resize is not None:
        image = pyvips.Image.thumbnail_buffer(
            data, resize.width, height=resize.height, size="force"
        )
        return image, 1
    return pyvips.Image.new_from_buffer(data, "").autorot(), 0


def _encode(image: pyvips.Image, output: Output) -> bytes:
    if image.format != "uchar":
        image = image.colourspace("srgb") if image.bands >= 3 else image
        image = image.cast("uchar") if image.format != "uchar" else image
    quality = output.quality
    match output.format:
        case "jpeg":
            if image.hasalpha():
                image = image.flatten(background=list(output.flatten_on[: image.bands - 1]))
            buffer = image.jpegsave_buffer(Q=quality, optimize_coding=True, keep="icc")
        case "png":
            buffer = image.pngsave_buffer(compression=6, keep="icc")
        case "webp":
            buffer = image.webpsave_buffer(Q=quality, effort=4, keep="icc")
        case "avif":
            buffer = image.heifsave_buffer(Q=quality, compression="av1", effort=2, keep="icc")
        case "gif":
            buffer = image.gifsave_buffer(keep="none")
    return bytes(buffer)


class VipsEngine:
    name = "vips"
    version = "vips-{}.{}.{}".format(*(pyvips.version(i) for i in range(3)))

    def render(self, data: bytes, info: SourceInfo, resolved: Resolved, output: Output) -> bytes:
        try:
            image, done = _load(data, info, resolved)
            for step in resolved.steps[done:]:
                image = apply_step(image, step, output)
            return _encode(image, output)
        except pyvips.Error as exc:
            raise UndecodableImage(f"the image could not be processed: {_first_line(exc)}") from exc


def _first_line(exc: pyvips.Error) -> str:
    return str(exc.message).strip().splitlines()[0] if exc.message else "libvips error"
