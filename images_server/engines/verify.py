"""The full decode check of an upload or a fetched original: libvips, and ImageMagick for GIF.

libvips decides whether a file decodes completely, whichever engine renders: with
`fail_on="error"` it refuses truncated and corrupt JPEG, PNG (a bad CRC too), WebP, GIF and
AVIF, while ImageMagick 6 decodes a truncated JPEG without a word (measured). An animation
is decoded frame by frame (`n=-1`); every frame the header walk counted must decode, and an
animated GIF must reach its trailer. libnsgif pads a GIF frame whose LZW data runs short
(measured at every `fail_on` level), so GIFs get a second decode by ImageMagick, which
refuses them; it runs under images-server's ImageMagick policy.
"""

from __future__ import annotations

import warnings

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
            data, "", fail_on="error", **({"n": -1} if animated else {})
        )
        image.avg()
    except pyvips.Error as exc:
        raise UndecodableImage() from exc
    if animated and _pages(image) != info.frames:
        raise UndecodableImage(
            f"only {_pages(image)} of the {info.frames} frames of the animation decode"
        )
    if info.format == "gif":
        _verify_gif(data, animated)


def _pages(image: pyvips.Image) -> int:
    if not image.get_typeof("page-height"):
        return 1
    return int(image.height // image.get("page-height"))


def _verify_gif(data: bytes, animated: bool) -> None:
    if animated and not data.rstrip(b"\0").endswith(_GIF_TRAILER):
        raise UndecodableImage("the GIF animation is cut short (no trailer)")
    from images_server.engines.hardening import load_imagemagick

    load_imagemagick()
    from wand.exceptions import WandException
    from wand.image import Image

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with Image(blob=data, format="gif"):
                pass
        except WandException as exc:
            raise UndecodableImage("a GIF frame is cut short or corrupt") from exc
    if any(issubclass(w.category, WandException) for w in caught):
        raise UndecodableImage("a GIF frame is cut short or corrupt")
