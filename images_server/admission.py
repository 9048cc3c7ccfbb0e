"""Render admission: a bounded number of renders for the whole server, a wait queue, and
`503 overloaded` past them, so a busy server sheds load instead of slowing everyone down.

Renders are CPU-bound and each runs on one core (`VIPS_CONCURRENCY=1`, `MAGICK_THREAD_LIMIT=1`),
so more renders at once than cores only time-slice the CPUs, making every render slower and
holding more memory. The gate is one for the whole server, shared by every gunicorn web worker
(made in gunicorn's master before it forks them: `create_shared`, then `use` in each worker):
a worker whose threads hold several requests may run them on every free core, while a
per-worker gate left cores idle whenever kept-alive connections crowded onto one worker
(measured with `make bench-peers`: hundreds of `503`s at 4 connections).

A cache miss takes a slot; up to `IMAGES_RENDER_QUEUE` more wait, each at most
`IMAGES_RENDER_QUEUE_TIMEOUT` seconds; anything past that is answered at once with `Overloaded`
(503, `Retry-After`), which a client, a CDN or NGINX can retry later. This is how imgproxy
bounds its work (`IMGPROXY_WORKERS`, `IMGPROXY_REQUESTS_QUEUE_SIZE`). An upload's full decode
takes a slot too (`slot`). Cache hits, originals served as stored and every other route never
take one. A slot is held until the engine really returns, so a render abandoned at its
deadline (`engines.deadline.finish_within`) keeps its slot until its encoder ends; a slot held
by a worker that died is given back by the master (`release_dead`). Outside gunicorn (the job
worker, which has its own `IMAGES_QUEUE_WORKERS`, the CLI, tests of the app) renders are not
gated.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from images_server.errors import Overloaded
from images_server.settings import Settings

Release = Callable[[], None]


class RenderGate:
    """At most `slots` renders at once across the processes that share it, at most `queue`
    waiting, none waiting past `wait` seconds. Its state lives in shared memory, so a gate made
    before `fork` is one gate for every child; each slot records the pid holding it."""

    def __init__(self, slots: int | None, queue: int = 0, wait: float = 0.0) -> None:
        self.slots = slots  # None: unbounded
        self.queue = queue
        self.wait = wait
        if slots is None:  # ungated (outside gunicorn): no shared memory, no semaphores
            return
        self._changed = multiprocessing.Condition()
        self._holders: Any = multiprocessing.Array("i", slots, lock=False)  # pid or 0
        self._waiting: Any = multiprocessing.Value("i", 0, lock=False)

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
            index = self._free_slot()
            if index is None:
                index = self._wait_in_queue()
            self._holders[index] = os.getpid()
        return lambda: self._release(index)

    def _free_slot(self) -> int | None:
        for index in range(len(self._holders)):
            if self._holders[index] == 0:
                return index
        return None

    def _wait_in_queue(self) -> int:
        if self._waiting.value >= self.queue:
            raise self._overloaded(f"{self._waiting.value} more are already waiting")
        self._waiting.value += 1
        try:
            free = self._changed.wait_for(lambda: self._free_slot() is not None, self.wait)
        finally:
            self._waiting.value -= 1
        index = self._free_slot()
        if not free or index is None:
            raise self._overloaded(f"none freed within {self.wait:g} s")
        return index

    def _release(self, index: int) -> None:
        with self._changed:
            self._holders[index] = 0
            self._changed.notify()

    def release_dead(self, pid: int) -> int:
        """Give back the slots a process that died held (gunicorn's `child_exit`)."""
        if self.slots is None:
            return 0
        freed = 0
        with self._changed:
            for index in range(len(self._holders)):
                if self._holders[index] == pid:
                    self._holders[index] = 0
                    freed += 1
            if freed:
                self._changed.notify_all()
        return freed

    def _overloaded(self, why: str) -> Overloaded:
        retry_after = max(1, math.ceil(self.wait))
        return Overloaded(
            retry_after,
            f"the server is busy: all {self.slots} render slots are taken and {why}; "
            f"retry in {retry_after} s",
        )


def _nothing() -> None:
    return None


_gate = RenderGate(None)


def create_shared(settings: Settings) -> RenderGate:
    """The server's gate, made once in gunicorn's master so that every worker shares it."""
    return RenderGate.from_settings(settings)


def use(shared: RenderGate) -> None:
    """Gate this process's renders with `shared` (each gunicorn web worker, after the fork)."""
    global _gate  # one gate for the server, as there is one CPU budget
    _gate = shared


def gate() -> RenderGate:
    return _gate


@contextmanager
def slot() -> Iterator[None]:
    """Hold one of the server's render slots for the block (an upload's full decode costs
    what a render does, so it takes a slot too)."""
    release = _gate.admit()
    try:
        yield
    finally:
        release()
