"""Storages of originals, picked by the short name in `Settings.storage`.

`STORAGES` maps each name the settings accept to a factory taking the settings; `build_storage`
is the one place the server turns settings into a `Storage`. `MemoryStorage` is for tests and
is built directly, not through settings.
"""

from __future__ import annotations

from collections.abc import Callable

from images_server.settings import Settings
from images_server.storages.base import Storage
from images_server.storages.filesystem import FilesystemStorage
from images_server.storages.memory import MemoryStorage
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
    return S3Storage(settings.s3_bucket, settings.s3_endpoint_url, settings.s3_region)


STORAGES: dict[str, Callable[[Settings], Storage]] = {
    "filesystem": _filesystem,
    "s3": _s3,
}


def build_storage(settings: Settings) -> Storage:
    return STORAGES[settings.storage](settings)
