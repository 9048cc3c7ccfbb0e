"""The full decode check of an upload or a fetched original, always done with libvips.

Whichever engine renders, libvips decides whether a file decodes completely: with
`fail_on="truncated"` it refuses truncated and corrupt JPEG, PNG, WebP, GIF and AVIF, while
ImageMagick 6 decodes a truncated JPEG without a word (measured: no exception, no warning).
An animation is decoded frame by frame (`n=-1`), and two more checks cover what libvips
forgives in one (measured): every frame the header walk counted must decode, and an
animated GIF must reach its trailer, since libnsgif quietly drops or pads a cut-off frame.
"""

from __future__ import annotations

import pyvips

from images_server.engines.sniff import SourceInfo
from images_server.errors import UndecodableImage

_ANIMATED = frozenset({"gif", "webp"})
_GIF_TRAILER = b";"


def verify_decodes(data: bytes, info: SourceInfo) -> None:
    """Decode every pixel of every frame; `UndecodableImage` (422) if that fails."""
    animated = info.format in _ANIMATED and info.frames > 1
    try:
        image = pyvips.Image.new_from_buffer(
            data, "", fail_on="truncated", **({"n": -1} if animated else {})
        )
        image.avg()
    except pyvips.Error as exc:
        raise UndecodableImage() from exc
    if animated and _pages(image) != info.frames:
        raise UndecodableImage(
            f"only {_pages(image)} of the {info.frames} frames of the animation decode"
        )
    if animated and info.format == "gif" and not data.rstrip(b"\0").endswith(_GIF_TRAILER):
        raise UndecodableImage("the GIF animation is cut short (no trailer)")


def _pages(image: pyvips.Image) -> int:
    if not image.get_typeof("page-height"):
        return 1
    return int(image.height // image.get("page-height"))
