"""The full decode check of an upload or a fetched original: libvips, and ImageMagick for GIF.

libvips decides whether a file decodes completely, whichever engine renders: with
`fail_on="error"` it refuses truncated and corrupt JPEG, PNG (a bad CRC too), WebP, GIF and
AVIF, while ImageMagick 6 decodes a truncated JPEG without a word (measured). An animation
is decoded frame by frame (`n=-1`); every frame the header walk counted must decode, and an
animated GIF must reach its trailer. Where the two decoders were found to disagree, a
second decode by ImageMagick (under images-server's policy) decides, so that whatever is
accepted renders on either engine: GIFs (libnsgif pads a frame whose LZW data runs short, at
every `fail_on` level) and WebPs in the animation container (libvips' newer libwebp decodes
fuzzed frames that ImageMagick's calls corrupt).
"""

from __future__ import annotations

import warnings

import pyvips

from images_server import decoders
from images_server.engines.base import ANIMATED_FORMATS
from images_server.errors import UndecodableImage
from images_server.formats.sniff import SourceInfo, for_decoders

_GIF_TRAILER = b";"
_ANIMATION_FLAG = 0x02  # VP8X flags byte


def verify_decodes(data: bytes, info: SourceInfo) -> pyvips.Image | None:
    """Decode every pixel of every frame; `UndecodableImage` (422) if that fails. For a
    format of the shared decoders, the decoded image (`decoders.check`), else None."""
    if decoders.is_shared(info):
        return decoders.check(data, info)
    animated = info.format in ANIMATED_FORMATS and info.frames > 1
    try:
        image = pyvips.Image.new_from_buffer(
            for_decoders(data), "", fail_on="error", **({"n": -1} if animated else {})
        )
        image.avg()
    except pyvips.Error as exc:
        raise UndecodableImage() from exc
    if animated and _pages(image) != info.frames:
        raise UndecodableImage(
            f"only {_pages(image)} of the {info.frames} frames of the animation decode"
        )
    if info.format == "gif" and animated and not data.rstrip(b"\0").endswith(_GIF_TRAILER):
        raise UndecodableImage("the GIF animation is cut short (no trailer)")
    if info.format == "gif" or _is_animation_container(data, info):
        _second_opinion(data, info.format)
    return None


def _pages(image: pyvips.Image) -> int:
    if not image.get_typeof("page-height"):
        return 1
    return int(image.height // image.get("page-height"))


def _is_animation_container(data: bytes, info: SourceInfo) -> bool:
    """A WebP with the VP8X animation flag (even with one frame)."""
    return info.format == "webp" and data[12:16] == b"VP8X" and bool(data[20] & _ANIMATION_FLAG)


def _second_opinion(data: bytes, fmt: str) -> None:
    from images_server.engines.hardening import load_imagemagick

    load_imagemagick()
    from wand.exceptions import WandException
    from wand.image import Image

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with Image(blob=data, format=fmt):
                pass
        except WandException as exc:
            raise UndecodableImage(f"a {fmt.upper()} frame is cut short or corrupt") from exc
    if any(issubclass(w.category, WandException) for w in caught):
        raise UndecodableImage(f"a {fmt.upper()} frame is cut short or corrupt")
