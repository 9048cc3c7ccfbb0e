"""The `none` cache: whatever is put, nothing is ever returned or purged."""

from __future__ import annotations

from images_server.caches.base import CachedResult
from images_server.caches.null import NullCache
from tests.caches.contract import image, key


def test_never_returns_what_was_put() -> None:
    cache = NullCache()
    cache.put(key("a"), CachedResult(b"body", "image/png"))
    assert cache.get(key("a")) is None
    assert cache.get(key("b")) is None


def test_purge_drops_nothing() -> None:
    cache = NullCache()
    cache.put(key("a"), CachedResult(b"body", "image/png"))
    assert cache.purge(image("a")) == 0


def test_check_passes() -> None:
    NullCache().check()
