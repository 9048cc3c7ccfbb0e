"""The one behaviour every storing `ResultCache` must have, bound by subclassing.

A test module subclasses `CacheContract` as `Test…` and provides a `cache` fixture. A cache
that bounds its own size by least-recently-used eviction (filesystem, memory) subclasses
`SizeBoundedContract` instead, builds its fixture with `max_bytes=MAX_BYTES` and implements
`stored_bytes`; the `s3` cache leaves its size to the bucket's lifecycle rules, so it binds
`CacheContract` only. The `none` cache stores nothing, so it is not bound here; `test_null.py`
checks it never returns anything.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import pytest

from images_server.caches.base import CachedResult, CacheKey, ResultCache
from images_server.hashing import ImageRef, Namespace, hash_bytes

MAX_BYTES = 10_000
VARIANT = "0123456789abcdef"


def image(name: str, namespace: Namespace = Namespace.ORIGINALS) -> ImageRef:
    return ImageRef(namespace, hash_bytes(name.encode()))


def key(name: str, variant: str = VARIANT) -> CacheKey:
    return CacheKey(image(name), variant)


def variant(n: int) -> str:
    return f"{n:016x}"


def jpeg(body: bytes) -> CachedResult:
    return CachedResult(body, "image/jpeg")


class CacheContract:
    def test_miss_is_none(self, cache: ResultCache) -> None:
        assert cache.get(key("absent")) is None

    def test_put_then_get_roundtrips(self, cache: ResultCache) -> None:
        result = CachedResult(bytes(range(256)) + b"\n\r\n\x00", "image/webp")
        cache.put(key("a"), result)
        assert cache.get(key("a")) == result

    @pytest.mark.parametrize(
        "media_type", ["image/jpeg", "image/png", "image/webp", "image/gif", "image/avif"]
    )
    def test_media_type_is_kept(self, cache: ResultCache, media_type: str) -> None:
        cache.put(key("a"), CachedResult(b"body", media_type))
        got = cache.get(key("a"))
        assert got is not None
        assert got.media_type == media_type

    def test_empty_body_roundtrips(self, cache: ResultCache) -> None:
        cache.put(key("a"), jpeg(b""))
        assert cache.get(key("a")) == jpeg(b"")

    def test_put_again_replaces(self, cache: ResultCache) -> None:
        cache.put(key("a"), jpeg(b"first"))
        cache.put(key("a"), CachedResult(b"second", "image/png"))
        assert cache.get(key("a")) == CachedResult(b"second", "image/png")

    def test_variants_are_separate(self, cache: ResultCache) -> None:
        cache.put(key("a", variant(1)), jpeg(b"one"))
        cache.put(key("a", variant(2)), jpeg(b"two"))
        assert cache.get(key("a", variant(1))) == jpeg(b"one")
        assert cache.get(key("a", variant(2))) == jpeg(b"two")
        assert cache.get(key("a", variant(3))) is None

    def test_images_and_namespaces_are_separate(self, cache: ResultCache) -> None:
        original = CacheKey(image("x", Namespace.ORIGINALS), VARIANT)
        external = CacheKey(image("x", Namespace.EXTERNAL), VARIANT)
        cache.put(original, jpeg(b"original"))
        assert cache.get(external) is None
        assert cache.get(key("y")) is None
        cache.put(external, jpeg(b"external"))
        assert cache.get(original) == jpeg(b"original")
        assert cache.get(external) == jpeg(b"external")

    def test_purge_drops_every_variant_of_one_image_only(self, cache: ResultCache) -> None:
        for n in range(3):
            cache.put(key("a", variant(n)), jpeg(b"a"))
        cache.put(key("b"), jpeg(b"b"))
        external = CacheKey(image("a", Namespace.EXTERNAL), VARIANT)
        cache.put(external, jpeg(b"a, external"))
        assert cache.purge(image("a")) == 3
        assert all(cache.get(key("a", variant(n))) is None for n in range(3))
        assert cache.get(key("b")) == jpeg(b"b")
        assert cache.get(external) == jpeg(b"a, external")
        assert cache.purge(image("a")) == 0

    def test_purge_of_unknown_image_is_zero(self, cache: ResultCache) -> None:
        assert cache.purge(image("never cached")) == 0

    def test_check_passes(self, cache: ResultCache) -> None:
        cache.check()


class SizeBoundedContract(CacheContract, ABC):
    MAX_BYTES = MAX_BYTES

    @abstractmethod
    def stored_bytes(self, cache: ResultCache) -> int:
        """How many bytes `cache` holds now; each binding knows where to look."""

    def test_size_stays_bounded_and_reads_count_as_use(self, cache: ResultCache) -> None:
        body = b"x" * (self.MAX_BYTES // 10)
        for n in range(8):
            cache.put(key(f"img{n}"), jpeg(body))
        assert cache.get(key("img0")) is not None  # now the most recently used
        for n in range(8, 12):
            cache.put(key(f"img{n}"), jpeg(body))
            assert self.stored_bytes(cache) <= self.MAX_BYTES
        assert cache.get(key("img0")) == jpeg(body)
        assert cache.get(key("img1")) is None
        assert cache.get(key("img11")) == jpeg(body)

    def test_result_bigger_than_the_cache_is_not_kept(self, cache: ResultCache) -> None:
        cache.put(key("small"), jpeg(b"small"))
        cache.put(key("huge"), jpeg(b"x" * self.MAX_BYTES))
        assert cache.get(key("huge")) is None
        assert cache.get(key("small")) == jpeg(b"small")
