"""A render's time budget, and how each engine is made to stop when it runs out.

Pathological but legal pipelines (a 50-sigma blur of a large upscale, odd rotations of big
canvases) can run for minutes. Neither library can be interrupted from Python while it
computes, so each is asked to stop itself: libvips through `set_kill` on the image being
computed, which libvips checks between tiles, called once by a timer when the budget runs out
(`Deadline.stopping`: no Python runs per tile, so a render never waits for the interpreter's
lock while another thread holds it); ImageMagick through a progress monitor that answers
"stop" (bound with ctypes; Wand does not expose it). Both then return early, and `check` turns
the expired budget into `RenderTimeout` (503), so the worker process lives on.

Some encoders never look at either: libaom (AVIF) encodes after libvips has computed every
pixel, and cgif (GIF) quantises whole frames, so a 24-megapixel AVIF can run 30 s past its
budget with no way in (measured: pixels in 1.2 s, then 28 s in libaom). `finish_within` is the
backstop for those: the render runs on its own thread and the request is answered `503` at
the deadline (plus a short grace for the engine to stop itself first) whatever the thread is
doing. The abandoned encoder runs to its end; its `then` (the render slot it holds,
`images_server.admission`) is only called then, so the process never takes on more renders
than it has slots, even counting the abandoned ones.
"""

from __future__ import annotations

import contextvars
import ctypes
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from images_server.errors import RenderTimeout

T = TypeVar("T")

# After the deadline, how long the engine has to stop itself (libvips' kill flag and
# ImageMagick's monitor act within milliseconds) before the request stops waiting for it.
GRACE = 0.5


class Deadline:
    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._at = None if seconds is None else time.monotonic() + seconds
        self._stops: list[Callable[[], None]] = []
        self._fired = False  # the timer ran: expired, even if it woke a hair early
        self._lock = threading.Lock()

    @property
    def expired(self) -> bool:
        return self._fired or (self._at is not None and time.monotonic() > self._at)

    def on_expiry(self, stop: Callable[[], None]) -> None:
        """Call `stop()` when the budget runs out inside `stopping` (at once if it has)."""
        with self._lock:
            if not self._fired:
                self._stops.append(stop)
                return
        stop()

    def _fire(self) -> None:
        with self._lock:
            self._fired = True
            stops, self._stops = self._stops, []
        for stop in stops:
            stop()

    @contextmanager
    def stopping(self) -> Iterator[None]:
        """While the block runs, a timer calls what `on_expiry` registered once the budget
        runs out; the timer ends with the block."""
        if self._at is None:
            yield
            return
        timer = threading.Timer(max(0.0, self._at - time.monotonic()), self._fire)
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()

    @property
    def remaining(self) -> float | None:
        return None if self._at is None else max(0.0, self._at - time.monotonic())

    def check(self) -> None:
        if self.expired:
            raise self.timeout()

    def timeout(self) -> RenderTimeout:
        seconds = self.seconds or 0.0
        return RenderTimeout(
            f"the render took longer than the limit of {seconds:g} s and was stopped",
            retry_after=max(1, math.ceil(seconds)),  # not sooner than one more budget
        )


NO_DEADLINE = Deadline(None)


def finish_within(deadline: Deadline, work: Callable[[], T], then: Callable[[], None]) -> T:
    """`work()`'s result, or `RenderTimeout` once `deadline` (and `GRACE`) has passed while
    it still runs; `then()` is called once `work` has really returned, either way."""
    if deadline.seconds is None:
        try:
            return work()
        finally:
            then()
    outcome: list[T] = []
    failure: list[BaseException] = []
    done = threading.Event()

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # handed to the waiting request, raised there
            failure.append(exc)
        finally:
            done.set()
            then()

    context = contextvars.copy_context()  # the request's trace span and request id
    threading.Thread(target=context.run, args=(run,), name="render", daemon=True).start()
    remaining = deadline.remaining
    if not done.wait((remaining or 0.0) + GRACE):
        raise deadline.timeout()
    if failure:
        raise failure[0]
    return outcome[0]


def watch_vips(image: Any, deadline: Deadline) -> Any:
    """`image` (a pyvips.Image about to be computed), set to stop when `deadline` expires
    within its `stopping` block."""
    if deadline.seconds is not None:
        deadline.on_expiry(lambda: image.set_kill(True))
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
