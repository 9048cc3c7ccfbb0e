"""libvips engine: decode (shrink-on-load through `thumbnail_buffer`), frames, encode.

A leading resize that shrinks is folded into decoding, so JPEG and WebP shrink while they
load (not a GIF whose first frame overflows its logical screen: libnsgif's canvas is cut
back to the screen first). An animated GIF or WebP that stays GIF or WebP is decoded whole
(`n=-1`) as a strip of frames (`page-height`); each frame goes through the steps on its own
and the strip is joined again with its delays and loop count. Any other output takes the
first frame only. Frames reach `steps.apply_step` as untagged 8-bit sRGB (`colour.to_srgb`).

libvips itself is set up for untrusted input by `engines.hardening`.
"""

from __future__ import annotations

import pyvips

from images_server.decoders import decodable
from images_server.engines.base import Output, first_resize, keeps_animation, target_of
from images_server.engines.deadline import NO_DEADLINE, Deadline, watch_vips
from images_server.engines.vips import turbo
from images_server.engines.vips.colour import is_bare_cmyk, to_srgb, untagged
from images_server.engines.vips.encode import encode_output
from images_server.engines.vips.steps import apply_step
from images_server.errors import UndecodableImage
from images_server.formats.sniff import SourceInfo
from images_server.observability.tracing import encode_stage
from images_server.pipeline.steps import ResizeTo, Resolved, Step

# From this many pixels, a JPEG that shrinks is decoded at the largest libjpeg scale, up to 1/4,
# that still covers the output (as Pillow's draft mode does), not at half that as `thumbnail`
# does to keep a factor of two for its own resize: a 1 MP photo filled to 300x200 decodes in
# 2.9 ms instead of 5.0, at an SSIM against a full decode and Lanczos of 0.996 (thumbnail's:
# 0.999). The 1/8 scale is left to `thumbnail`: a variant served as WebP from it fell to SSIM
# 0.958 against the same from its derivative copy (tests/derivatives).
DCT_MIN_PIXELS = 1_000_000
_PAGE_HEIGHT = "page-height"
_ANIMATION_FIELDS = ("delay", "loop")


def _shrink_on_load(info: SourceInfo, resolved: Resolved) -> ResizeTo | None:
    """The leading resize when it shrinks; enlarging is left to `apply_step`."""
    resize = first_resize(resolved)
    if resize is None or resize.width > info.width or resize.height > info.height:
        return None
    return resize


def _load(
    data: bytes, info: SourceInfo, resolved: Resolved, animated: bool, deadline: Deadline
) -> tuple[pyvips.Image, int]:
    """The upright sRGB source (all frames when `animated`), and how many steps decoding did."""
    head = pyvips.Image.new_from_buffer(data, "", **({"n": -1} if animated else {}))
    if info.format == "gif":
        clipped = _clipped_to_screen(head, info)
        if clipped is not head:  # shrinking the grown canvas on load would scale the overflow in
            return to_srgb(clipped), 0
    resize = _shrink_on_load(info, resolved)
    if resize is None or is_bare_cmyk(head):
        return to_srgb(head if animated else head.autorot()), 0
    scale = None if animated else _whole_decode_scale(info, head, resize)
    if scale is not None:
        image = _dct_scaled(data, head, scale, resize)
    else:
        image = _thumbnail(data, head, resize, animated)
    # decoding streams; later steps may read in any order (smartcrop does), and the shrunk
    # image is small enough to hold
    if len(resolved.steps) > 1:
        image = watch_vips(image, deadline).copy_memory()
    return image, 1


def _whole_decode_scale(info: SourceInfo, head: pyvips.Image, resize: ResizeTo) -> int | None:
    """The libjpeg scale 1/n at which a JPEG is decoded whole before its resize, or None to
    leave the decode to `thumbnail`.

    A large JPEG gets the largest n (at most 4) whose decode still covers the resize. A small
    one (under `DCT_MIN_PIXELS`, so small to hold) shrunk by less than 4, as derivative copies
    are read (by 1.25 to 2.5), gets n = 1: `thumbnail` decodes it at full size too, only in
    strips as it resizes, to the same pixels, 1.3 ms slower for the 12 MP photo's 1000 px copy
    to 800 px (9.5 ms with the encode). Anything else (a small JPEG shrunk by 4 or more,
    whose decode `thumbnail` scales, CMYK, other formats) is `thumbnail`'s."""
    if info.format != "jpeg" or head.interpretation == "cmyk":
        return None
    if info.pixels < DCT_MIN_PIXELS:
        shrink = min(info.width / resize.width, info.height / resize.height)
        return 1 if shrink < 4 else None
    return next(
        (
            n
            for n in (4, 2)
            if info.width // n >= resize.width and info.height // n >= resize.height
        ),
        None,
    )


def _dct_scaled(data: bytes, head: pyvips.Image, scale: int, resize: ResizeTo) -> pyvips.Image:
    """`data` decoded at 1/`scale` by libjpeg (its scaled IDCT filters as it shrinks), upright,
    then Lanczos to the exact size, as sRGB. A plain JPEG is decoded by libjpeg-turbo's own API,
    to the same pixels sooner (`turbo`)."""
    image = turbo.decode_scaled(data, head, scale)
    if image is None:
        image = pyvips.Image.new_from_buffer(data, "", shrink=scale).autorot()
    if (image.width, image.height) != (resize.width, resize.height):
        image = image.resize(resize.width / image.width, vscale=resize.height / image.height)
    return to_srgb(image)


def _thumbnail(data: bytes, head: pyvips.Image, resize: ResizeTo, animated: bool) -> pyvips.Image:
    """`data` decoded and shrunk in one pass, upright, as sRGB."""
    # CMYK is only right if thumbnail converts it through its profile; anything else is
    # converted by to_srgb once shrunk (export_profile triples the time of an untagged
    # photo, measured)
    cmyk = {"export_profile": "srgb"} if head.interpretation == "cmyk" else {}
    image = pyvips.Image.thumbnail_buffer(
        data,
        resize.width,
        height=resize.height,
        size="force",
        option_string="n=-1" if animated else "",
        **cmyk,
    )
    return to_srgb(untagged(image) if cmyk else image)


def _frames(strip: pyvips.Image) -> list[pyvips.Image]:
    height = strip.get(_PAGE_HEIGHT) if strip.get_typeof(_PAGE_HEIGHT) else strip.height
    return [strip.crop(0, top, strip.width, height) for top in range(0, strip.height, height)]


def _clipped_to_screen(strip: pyvips.Image, info: SourceInfo) -> pyvips.Image:
    """A GIF's frames cut to its logical screen, the size `sniff` gives (docs/api.md §3).

    libnsgif grows its canvas to hold a first frame that reaches past the screen; browsers
    and ImageMagick's coalesce clip the frame instead.
    """
    frames = _frames(strip)
    if (frames[0].width, frames[0].height) == (info.width, info.height):
        return strip
    clipped = [frame.embed(0, 0, info.width, info.height) for frame in frames]
    return _joined(clipped, strip) if len(clipped) > 1 else clipped[0]


def _joined(frames: list[pyvips.Image], source: pyvips.Image) -> pyvips.Image:
    """The frames as one strip, with the source's delays and loop count."""
    strip = pyvips.Image.arrayjoin(frames, across=1).copy()
    strip.set_type(pyvips.GValue.gint_type, _PAGE_HEIGHT, frames[0].height)
    for name in _ANIMATION_FIELDS:
        gtype = source.get_typeof(name)
        if gtype:
            strip.set_type(gtype, name, source.get(name))
    return strip


def _apply(
    image: pyvips.Image,
    steps: tuple[Step, ...],
    output: Output,
    animated: bool,
    deadline: Deadline,
) -> pyvips.Image:
    if not animated or not steps:
        for step in steps:
            image = apply_step(image, step, output)
            deadline.check()  # some steps compute at once (smartcrop, held images)
        return image
    frames = _frames(image)
    for step in steps:
        frames = [apply_step(frame, step, output) for frame in frames]
        deadline.check()
    return _joined(frames, image)


class VipsEngine:
    name = "vips"
    version = "vips-{}.{}.{}".format(*(pyvips.version(i) for i in range(3)))

    def render(
        self,
        data: bytes,
        info: SourceInfo,
        resolved: Resolved,
        output: Output,
        deadline: Deadline = NO_DEADLINE,
    ) -> bytes:
        animated = keeps_animation(info, output)
        try:
            with deadline.stopping():
                data, info = decodable(data, info, target_of(resolved))
                image, done = _load(data, info, resolved, animated, deadline)
                image = _apply(image, resolved.steps[done:], output, animated, deadline)
                with encode_stage(self.name):
                    return encode_output(image, output, deadline)
        except pyvips.Error as exc:
            deadline.check()  # killed by the deadline, not broken
            raise UndecodableImage(f"the image could not be processed: {_first_line(exc)}") from exc


def _first_line(exc: pyvips.Error) -> str:
    return str(exc.message).strip().splitlines()[0] if exc.message else "libvips error"
