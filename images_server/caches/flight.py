"""One render per variant: concurrent misses of one cache key wait for a single render.

Within a process, `single_flight` lets the first caller of a key (the leader) run `compute`
and hands its result to every caller that arrives meanwhile (the followers). Across processes
a cache that can lock a key cheaply (`KeyLocks`: the filesystem cache, with an `flock` per
key) serialises the leaders of each process: the first renders and stores, the others wait for
the lock, then find the variant in the cache.

Everything is bounded by `wait` (the render timeout): a leader waits at most that long for
another process's lock, a follower at most that long for its leader; past it, or when the
leader failed, a caller renders by itself. Locks are an optimisation, never a dependency: a
lock that cannot be taken is logged and the caller renders.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

from images_server.caches.base import CachedResult, CacheKey, ResultCache


@runtime_checkable
class KeyLocks(Protocol):
    def render_lock(self, key: CacheKey, timeout: float) -> AbstractContextManager[bool]:
        """Hold the lock of `key` across processes, waiting at most `timeout` seconds for it;
        yields True when the caller had to wait (another process may have stored `key`)."""


class _Call:
    __slots__ = ("done", "result")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: CachedResult | None = None


class Flights:
    """The calls in flight in this process, by key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[Hashable, _Call] = {}

    def run(
        self,
        key: Hashable,
        compute: Callable[[], CachedResult],
        wait: float,
        alone: Callable[[], CachedResult] | None = None,
    ) -> CachedResult:
        """`compute()`, run once for every caller of `key` at the same time. A follower whose
        leader failed or took longer than `wait` runs `alone` (default: `compute`)."""
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if call is None:
                call = self._calls[key] = _Call()
        if leader:
            try:
                call.result = compute()
                return call.result
            finally:
                with self._lock:
                    del self._calls[key]
                call.done.set()
        if call.done.wait(wait) and call.result is not None:
            return call.result
        return (alone or compute)()

    def in_flight(self) -> int:
        with self._lock:
            return len(self._calls)


FLIGHTS = Flights()


def single_flight(
    cache: ResultCache, key: CacheKey, compute: Callable[[], CachedResult], wait: float
) -> CachedResult:
    """`compute()` (which renders and stores `key` in `cache`), run once for every caller of
    `key` in this process at the same time and, when `cache` locks keys, in every process."""

    def locked() -> CachedResult:
        if not isinstance(cache, KeyLocks):
            return compute()
        with cache.render_lock(key, wait) as waited:
            if waited:  # another process held the lock: it may have stored the variant
                hit = cache.get(key)
                if hit is not None:
                    return hit
            return compute()

    # Keyed by cache too: tests run several apps, with their own caches, in one process.
    return FLIGHTS.run((id(cache), key), locked, wait, alone=compute)
