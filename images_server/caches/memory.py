"""Rendered variants in a process-local, size-bounded LRU dict: the `ResultCache` for tests.

It follows the filesystem cache's rules (evict least recently used entries once the bodies
exceed `max_bytes`, down to 90% of it; never keep a result bigger than that target) without
touching the disk. Not shared between processes, so settings never pick it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from images_server.caches.base import CachedResult, CacheKey
from images_server.hashing import ImageRef

SWEEP_TARGET = 0.9


class MemoryCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = int(max_bytes)
        self.target_bytes = int(self.max_bytes * SWEEP_TARGET)
        self.total_bytes = 0
        self._entries: OrderedDict[CacheKey, CachedResult] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: CacheKey) -> CachedResult | None:
        with self._lock:
            result = self._entries.get(key)
            if result is not None:
                self._entries.move_to_end(key)
            return result

    def put(self, key: CacheKey, result: CachedResult) -> None:
        if len(result.body) > self.target_bytes:
            return
        with self._lock:
            self._drop(key)
            self._entries[key] = result
            self.total_bytes += len(result.body)
            if self.total_bytes > self.max_bytes:
                while self.total_bytes > self.target_bytes:
                    self._drop(next(iter(self._entries)))

    def purge(self, image: ImageRef) -> int:
        with self._lock:
            keys = [key for key in self._entries if key.image == image]
            for key in keys:
                self._drop(key)
            return len(keys)

    def check(self) -> None:
        return None

    def _drop(self, key: CacheKey) -> None:
        result = self._entries.pop(key, None)
        if result is not None:
            self.total_bytes -= len(result.body)
