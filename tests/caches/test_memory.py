"""`MemoryCache` against the cache contract."""

from __future__ import annotations

import pytest

from images_server.caches.base import ResultCache
from images_server.caches.memory import MemoryCache
from tests.caches.contract import SizeBoundedContract


class TestMemoryCache(SizeBoundedContract):
    @pytest.fixture
    def cache(self) -> MemoryCache:
        return MemoryCache(self.MAX_BYTES)

    def stored_bytes(self, cache: ResultCache) -> int:
        assert isinstance(cache, MemoryCache)
        return cache.total_bytes
