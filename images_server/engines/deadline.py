"""A render's time budget, and how each engine is made to stop when it runs out.

Pathological but legal pipelines (a 50-sigma blur of a large upscale, odd rotations of big
canvases) can run for minutes. Neither library can be interrupted from Python while it
computes, so each is asked to stop itself: libvips through its `eval` progress signal and
`set_kill`, ImageMagick through a progress monitor that answers "stop" (bound with ctypes;
Wand does not expose it). Both then return early, and `check` turns the expired budget into
`RenderTimeout` (503), so the worker process lives on.
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable
from typing import Any

from images_server.errors import RenderTimeout


class Deadline:
    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._at = None if seconds is None else time.monotonic() + seconds

    @property
    def expired(self) -> bool:
        return self._at is not None and time.monotonic() > self._at

    def check(self) -> None:
        if self.expired:
            raise RenderTimeout(
                f"the render took longer than the limit of {self.seconds:g} s and was stopped"
            )


NO_DEADLINE = Deadline(None)


def watch_vips(image: Any, deadline: Deadline) -> Any:
    """`image` (a pyvips.Image about to be computed), set to stop when `deadline` expires."""
    if deadline.seconds is None:
        return image

    def on_eval(evaluated: Any, _progress: object) -> None:
        if deadline.expired:
            evaluated.set_kill(True)

    image.set_progress(True)
    image.signal_connect("eval", on_eval)
    return image


# MagickBooleanType (*)(const char *text, MagickOffsetType offset, MagickSizeType span, void *)
MONITOR_TYPE = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.c_char_p, ctypes.c_longlong, ctypes.c_ulonglong, ctypes.c_void_p
)


def imagemagick_monitor(deadline: Deadline) -> Callable[..., int]:
    """A progress monitor for ImageMagick that stops the running operation once `deadline`
    expires. Keep a reference to it for as long as images use it."""

    def monitor(_text: bytes, _offset: int, _span: int, _data: object) -> int:
        return 0 if deadline.expired else 1

    return MONITOR_TYPE(monitor)
