"""ImageMagick engine (Wand): decode (with the `jpeg:size` hint), frames, encode.

Decoding a JPEG uses the `jpeg:size` hint, so libjpeg scales by 1/2, 1/4 or 1/8 while
decoding when the first step shrinks: the hint keeps the source's aspect ratio and is never
larger than the image (otherwise ImageMagick ignores it or upscales while decoding).

An animated GIF or WebP that stays GIF or WebP is coalesced (every frame becomes a whole
canvas) and each frame goes through the steps as an image of its own; the frames keep
their delays and loop count through the copies. Any other output takes the first frame,
coalesced alone so that a first frame smaller than the canvas still fills it (a lone GIF
frame too: coalescing places it on the logical screen and clips what lies outside). Every frame
reaches `steps.apply_step` upright and in untagged 8-bit sRGB (`colour.to_srgb`).
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Callable
from dataclasses import dataclass

from wand.api import library
from wand.exceptions import WandException
from wand.image import Image
from wand.resource import limits
from wand.version import MAGICK_VERSION_NUMBER

from images_server.decoders import decodable
from images_server.engines.base import Output, first_resize, keeps_animation, target_of
from images_server.engines.deadline import (
    MONITOR_TYPE,
    NO_DEADLINE,
    Deadline,
    imagemagick_monitor,
)
from images_server.engines.hardening import check_imagemagick_policy
from images_server.engines.vips import VipsEngine
from images_server.engines.wand.colour import to_srgb
from images_server.engines.wand.encode import encode_output
from images_server.engines.wand.steps import apply_step
from images_server.errors import UndecodableImage
from images_server.formats.sniff import SourceInfo
from images_server.observability.tracing import encode_stage
from images_server.pipeline.steps import ResizeTo, Resolved, Step

limits["thread"] = 1  # gunicorn runs one process per core; threads inside only contend


library.MagickSetImageProgressMonitor.argtypes = [ctypes.c_void_p, MONITOR_TYPE, ctypes.c_void_p]
library.MagickSetImageProgressMonitor.restype = ctypes.c_void_p


def _jpeg_size_hint(info: SourceInfo, resize: ResizeTo) -> str | None:
    swapped = info.orientation >= 5  # the hint is in stored, not displayed, orientation
    stored_w, stored_h = (info.height, info.width) if swapped else (info.width, info.height)
    target_w, target_h = (resize.height, resize.width) if swapped else (resize.width, resize.height)
    scale = max(target_w / stored_w, target_h / stored_h)
    if scale >= 0.5:  # libjpeg's smallest useful step is 1/2
        return None
    return f"{math.ceil(stored_w * scale)}x{math.ceil(stored_h * scale)}"


def _read(data: bytes, info: SourceInfo, resolved: Resolved, animated: bool) -> Image:
    """Every frame, coalesced, when `animated`; otherwise the first frame only."""
    image = Image()
    resize = first_resize(resolved)
    if info.format == "jpeg" and resize is not None:
        hint = _jpeg_size_hint(info, resize)
        if hint:
            image.options["jpeg:size"] = hint
    image.read(blob=data)
    if len(image.sequence) > 1:
        if animated:
            image.coalesce()
            return image
        first = _frame(image, 0)
        image.close()
        first.coalesce()
        return first
    if info.format == "gif":
        image.coalesce()  # a frame off its logical screen: placed on the screen, clipped to it
    return image


def _frame(image: Image, index: int) -> Image:
    """Frame `index` of `image` as an image of its own (with its delay and loop count)."""
    single = image.sequence[index]
    try:
        return Image(image=single)
    finally:
        single.destroy()


# EXIF orientations 1..8 by ImageMagick's names
_ORIENTATIONS = ("top_left", "top_right", "bottom_right", "bottom_left",
                 "left_top", "right_top", "right_bottom", "left_bottom")  # fmt: skip


def _upright_srgb(frame: Image, orientation: int) -> None:
    frame.reset_coords()
    if frame.orientation == "undefined" and orientation > 1:
        # ImageMagick 6 ignores a PNG's eXIf chunk; libvips and browsers honour it
        frame.orientation = _ORIENTATIONS[orientation - 1]
    frame.auto_orient()
    to_srgb(frame)


def _watch(image: Image, watch: _Watch) -> Image:
    """`image`, set to stop its operations when the render's deadline expires."""
    library.MagickSetImageProgressMonitor(image.wand, watch.monitor, None)
    return image


@dataclass(frozen=True)
class _Watch:
    deadline: Deadline
    monitor: Callable[..., int]  # kept referenced here for as long as images use it


def _apply_all(frame: Image, steps: tuple[Step, ...], output: Output, watch: _Watch) -> None:
    for step in steps:
        apply_step(frame, step, output)
        watch.deadline.check()  # a stopped operation returns early, without an error


def _each_frame(image: Image, steps: tuple[Step, ...], output: Output, watch: _Watch) -> Image:
    """A new sequence of every frame of `image` through `steps`; the caller closes it."""
    frames = [_watch(_frame(image, index), watch) for index in range(len(image.sequence))]
    try:
        for frame in frames:
            _upright_srgb(frame, 1)  # animations: what ImageMagick reads
            _apply_all(frame, steps, output, watch)
            frame.reset_coords()
        # the first frame holds the sequence: an empty Wand image records an error on append
        for frame in frames[1:]:
            frames[0].sequence.append(frame)
    except BaseException:
        frames[0].close()
        raise
    finally:
        for frame in frames[1:]:
            frame.close()
    return frames[0]


def _render(
    image: Image, info: SourceInfo, resolved: Resolved, output: Output, watch: _Watch
) -> bytes:
    if keeps_animation(info, output):
        with _each_frame(image, resolved.steps, output, watch) as frames, encode_stage("wand"):
            return _checked(encode_output(frames, output, watch.deadline), watch.deadline)
    _watch(image, watch)
    _upright_srgb(image, info.orientation)
    _apply_all(image, resolved.steps, output, watch)
    with encode_stage("wand"):
        return _checked(encode_output(image, output, watch.deadline), watch.deadline)


def _checked(body: bytes, deadline: Deadline) -> bytes:
    deadline.check()  # an encoder stopped half-way leaves a truncated file
    return body


class WandEngine:
    name = "wand"
    # animations are encoded by libvips (`encode._animation`), so its version counts too
    version = f"wand-im{MAGICK_VERSION_NUMBER:x}+{VipsEngine.version}"

    def __init__(self) -> None:
        check_imagemagick_policy()  # never render with ImageMagick's permissive defaults

    def render(
        self,
        data: bytes,
        info: SourceInfo,
        resolved: Resolved,
        output: Output,
        deadline: Deadline = NO_DEADLINE,
    ) -> bytes:
        watch = _Watch(deadline, imagemagick_monitor(deadline))
        data, info = decodable(data, info, target_of(resolved))
        try:
            with _read(data, info, resolved, keeps_animation(info, output)) as image:
                deadline.check()
                return _render(image, info, resolved, output, watch)
        except WandException as exc:
            deadline.check()
            raise UndecodableImage(f"the image could not be processed: {_reason(exc)}") from exc


def _reason(exc: WandException) -> str:
    """ImageMagick's message without its source location (`... @ error/cache.c/...`)."""
    return str(exc).split(" @ ", 1)[0].strip() or type(exc).__name__
