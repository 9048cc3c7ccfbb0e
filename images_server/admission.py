"""Render admission: a bounded number of renders per web worker process, a short wait queue,
and `503 overloaded` past them, so a busy server sheds load instead of slowing everyone down.

Renders are CPU-bound, and each worker renders on one core (`VIPS_CONCURRENCY=1`,
`MAGICK_THREAD_LIMIT=1`, one worker per core by default): a render admitted beyond
`IMAGES_MAX_CONCURRENT_RENDERS` only time-slices the same core, making every render in the
process slower and holding more memory. So a cache miss takes a slot; up to
`IMAGES_RENDER_QUEUE` more wait, each at most `IMAGES_RENDER_QUEUE_TIMEOUT` seconds; anything
past that is answered at once with `Overloaded` (503, `Retry-After`), which a client, a CDN or
NGINX (`proxy_next_upstream`) can retry elsewhere or later. This is how imgproxy bounds its
work (`IMGPROXY_WORKERS`, `IMGPROXY_REQUESTS_QUEUE_SIZE`). An upload's full decode check
takes a slot too (`slot`). Cache hits, originals served as stored and every other route never
take one.

The gate is per process, by nature: it counts what this process's CPU is doing. The gunicorn
web workers configure it (`gunicorn_conf.post_fork`); anywhere else (the job worker, which has
its own `IMAGES_QUEUE_WORKERS`, the CLI, tests of the app) renders are not gated. A slot is
released when the engine really returns, so a render abandoned at its deadline
(`engines.deadline.finish_within`) keeps its slot until its encoder ends. With sync workers
(`IMAGES_THREADS=1`) a worker holds one request at a time and the wait happens in the listen
backlog instead, before this gate can see it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from images_server.errors import Overloaded
from images_server.settings import Settings

Release = Callable[[], None]


class RenderGate:
    """At most `slots` renders at once, at most `queue` waiting, none waiting past `wait` s."""

    def __init__(self, slots: int | None, queue: int = 0, wait: float = 0.0) -> None:
        self.slots = slots  # None: unbounded
        self.queue = queue
        self.wait = wait
        self._changed = threading.Condition()
        self._running = 0
        self._waiting = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> RenderGate:
        return cls(
            settings.max_concurrent_renders,
            settings.render_queue,
            settings.render_queue_timeout,
        )

    def admit(self) -> Release:
        """Take a slot, waiting for one if the queue has room; the returned callable gives it
        back (call it exactly once). Raises `Overloaded` when no slot frees in time."""
        if self.slots is None:
            return _nothing
        with self._changed:
            if self._running >= self.slots or self._waiting:
                self._wait_in_queue()
            self._running += 1
        return self._release

    def _wait_in_queue(self) -> None:
        if self._waiting >= self.queue:
            raise self._overloaded(f"{self._waiting} more are already waiting")
        self._waiting += 1
        try:
            free = self._changed.wait_for(self._has_room, timeout=self.wait)
        finally:
            self._waiting -= 1
        if not free:
            raise self._overloaded(f"none freed within {self.wait:g} s")

    def _has_room(self) -> bool:
        return self.slots is None or self._running < self.slots

    def _release(self) -> None:
        with self._changed:
            self._running -= 1
            self._changed.notify()

    def _overloaded(self, why: str) -> Overloaded:
        retry_after = max(1, math.ceil(self.wait))
        return Overloaded(
            retry_after,
            f"the server is busy: all {self.slots} render slots of this worker are taken and "
            f"{why}; retry in {retry_after} s",
        )


def _nothing() -> None:
    return None


_gate = RenderGate(None)


def configure(settings: Settings) -> None:
    """Bound this process's renders by `settings` (each gunicorn web worker, once)."""
    global _gate  # one gate per process, as there is one CPU budget
    _gate = RenderGate.from_settings(settings)


def gate() -> RenderGate:
    return _gate


@contextmanager
def slot() -> Iterator[None]:
    """Hold one of this process's render slots for the block (an upload's full decode costs
    what a render does, so it takes a slot too)."""
    release = _gate.admit()
    try:
        yield
    finally:
        release()
