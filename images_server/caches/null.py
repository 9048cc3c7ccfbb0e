"""The `none` result cache: stores nothing, so every request renders afresh.

For deployments that put a CDN or reverse-proxy cache in front, and for measuring raw render
cost. `purge` has nothing to drop and `check` always passes.
"""

from __future__ import annotations

from images_server.caches.base import CachedResult, CacheKey
from images_server.hashing import ImageRef


class NullCache:
    def get(self, key: CacheKey) -> CachedResult | None:
        return None

    def put(self, key: CacheKey, result: CachedResult) -> None:
        return None

    def purge(self, image: ImageRef) -> int:
        return 0

    def check(self) -> None:
        return None
