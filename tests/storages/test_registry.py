"""`build_storage` picks a storage by the names `Settings.storage` accepts."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest

from images_server.settings import Settings
from images_server.storages import STORAGES, FilesystemStorage, S3Storage, build_storage


def make_settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(data_dir=tmp_path, **values)  # type: ignore[arg-type]


def test_registry_covers_exactly_the_settings_choices() -> None:
    assert set(STORAGES) == set(typing.get_args(Settings.model_fields["storage"].annotation))


def test_filesystem_storage_lives_in_originals_dir(tmp_path: Path) -> None:
    storage = build_storage(make_settings(tmp_path))
    assert isinstance(storage, FilesystemStorage)
    assert storage.root == tmp_path / "originals"


@pytest.mark.usefixtures("aws_env")
def test_s3_storage_uses_the_bucket(tmp_path: Path) -> None:
    storage = build_storage(make_settings(tmp_path, storage="s3", s3_bucket="originals"))
    assert isinstance(storage, S3Storage)
    assert storage.bucket == "originals"
    storage.close()
