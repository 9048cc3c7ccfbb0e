"""Result caches, picked by the short name in `Settings.cache`.

`CACHES` maps each name the settings accept to a factory taking the settings; `build_cache` is
the one place the server turns settings into a `ResultCache`. `MemoryCache` is for tests and
is built directly, not through settings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from images_server.caches.base import CachedResult, CacheKey, ResultCache
from images_server.caches.filesystem import FilesystemCache
from images_server.caches.memory import MemoryCache
from images_server.caches.null import NullCache
from images_server.settings import Settings

if TYPE_CHECKING:
    from images_server.caches.s3 import S3Cache  # boto3: imported only when configured

__all__ = [
    "CACHES",
    "CacheKey",
    "CachedResult",
    "FilesystemCache",
    "MemoryCache",
    "NullCache",
    "ResultCache",
    "S3Cache",
    "build_cache",
]


def _filesystem(settings: Settings) -> ResultCache:
    return FilesystemCache(settings.cache_dir, int(settings.cache_max_bytes))


def _s3(settings: Settings) -> ResultCache:
    from images_server.caches.s3 import S3Cache

    return S3Cache(
        settings.cache_s3_bucket_or_default,
        settings.cache_s3_prefix,
        settings.s3_endpoint_url,
        settings.s3_region,
    )


def _none(settings: Settings) -> ResultCache:
    return NullCache()


CACHES: dict[str, Callable[[Settings], ResultCache]] = {
    "filesystem": _filesystem,
    "s3": _s3,
    "none": _none,
}


def build_cache(settings: Settings) -> ResultCache:
    return CACHES[settings.cache](settings)


def __getattr__(name: str) -> Any:
    """`S3Cache`, imported on first use (PEP 562)."""
    if name == "S3Cache":
        from images_server.caches.s3 import S3Cache

        return S3Cache
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
