"""Storages of originals, picked by the short name in `Settings.storage`.

`STORAGES` maps each name the settings accept to a factory taking the settings; `build_storage`
is the one place the server turns settings into a `Storage`. `MemoryStorage` is for tests and
is built directly, not through settings.

`S3Storage` (and with it boto3) is imported only when asked for: a server on the filesystem
storage never loads boto3 (about 8 MB per process, measured).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from images_server.settings import Settings
from images_server.storages.base import Storage
from images_server.storages.filesystem import FilesystemStorage
from images_server.storages.memory import MemoryStorage

if TYPE_CHECKING:
    from images_server.storages.s3 import S3Storage

__all__ = [
    "STORAGES",
    "FilesystemStorage",
    "MemoryStorage",
    "S3Storage",
    "Storage",
    "build_storage",
]


def _filesystem(settings: Settings) -> Storage:
    return FilesystemStorage(settings.originals_dir)


def _s3(settings: Settings) -> Storage:
    from images_server.storages.s3 import S3Storage

    return S3Storage(settings.s3_bucket, settings.s3_endpoint_url, settings.s3_region)


STORAGES: dict[str, Callable[[Settings], Storage]] = {
    "filesystem": _filesystem,
    "s3": _s3,
}


def build_storage(settings: Settings) -> Storage:
    return STORAGES[settings.storage](settings)


def __getattr__(name: str) -> Any:
    """`S3Storage`, imported on first use (PEP 562)."""
    if name == "S3Storage":
        from images_server.storages.s3 import S3Storage

        return S3Storage
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
