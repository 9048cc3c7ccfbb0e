"""The full decode check of an upload or a fetched original, always done with libvips.

Whichever engine renders, libvips decides whether a file decodes completely: with
`fail_on="truncated"` it refuses truncated and corrupt JPEG, PNG, WebP, GIF and AVIF, while
ImageMagick 6 decodes a truncated JPEG without a word (measured: no exception, no warning).
"""

from __future__ import annotations

import pyvips

from images_server.engines.sniff import SourceInfo
from images_server.errors import UndecodableImage

_ANIMATED = frozenset({"gif", "webp"})


def verify_decodes(data: bytes, info: SourceInfo) -> None:
    """Decode every pixel of every frame; `UndecodableImage` (422) if that fails."""
    every_frame = {"n": -1} if info.format in _ANIMATED else {}
    try:
        image = pyvips.Image.new_from_buffer(data, "", fail_on="truncated", **every_frame)
        image.avg()
    except pyvips.Error as exc:
        raise UndecodableImage() from exc
