"""`build_cache` picks a result cache by the names `Settings.cache` accepts."""

from __future__ import annotations

import typing
from pathlib import Path

from images_server.caches import CACHES, FilesystemCache, NullCache, build_cache
from images_server.settings import Settings


def make_settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(data_dir=tmp_path, **values)  # type: ignore[arg-type]


def test_registry_covers_exactly_the_settings_choices() -> None:
    assert set(CACHES) == set(typing.get_args(Settings.model_fields["cache"].annotation))


def test_filesystem_cache_uses_cache_dir_and_size(tmp_path: Path) -> None:
    cache = build_cache(make_settings(tmp_path, cache_max_bytes="5MB"))
    assert isinstance(cache, FilesystemCache)
    assert cache.root == tmp_path / "cache"
    assert cache.max_bytes == 5_000_000


def test_none_cache(tmp_path: Path) -> None:
    assert isinstance(build_cache(make_settings(tmp_path, cache="none")), NullCache)
