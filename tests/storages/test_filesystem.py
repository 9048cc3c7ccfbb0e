"""`FilesystemStorage`: the storage contract, plus atomic writes and the sharded layout."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import pytest

from images_server.errors import ServiceUnavailable
from images_server.hashing import Namespace
from images_server.storages.filesystem import FilesystemStorage, contained_path
from tests.storages.contract import StorageContract, ref_for


class TestFilesystemStorage(StorageContract):
    @pytest.fixture
    def storage(self, tmp_path: Path) -> FilesystemStorage:
        return FilesystemStorage(tmp_path / "originals")


def all_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def fail_replace(monkeypatch: pytest.MonkeyPatch) -> None:
    def replace(src: object, dst: object) -> None:
        raise OSError(errno.EIO, "simulated I/O error")

    monkeypatch.setattr(os, "replace", replace)


def test_layout_is_sharded_by_hash(tmp_path: Path) -> None:
    storage = FilesystemStorage(tmp_path)
    ref = ref_for(b"sharded", Namespace.EXTERNAL)
    storage.put(ref, b"sharded")
    expected = tmp_path / "external" / ref.hash[:2] / ref.hash[2:4] / ref.hash
    assert all_files(tmp_path) == [expected]
    assert expected.read_bytes() == b"sharded"


def test_put_leaves_no_temp_files(tmp_path: Path) -> None:
    storage = FilesystemStorage(tmp_path)
    refs = [ref_for(bytes([n])) for n in range(20)]
    for n, ref in enumerate(refs):
        storage.put(ref, bytes([n]))
    assert all_files(tmp_path) == sorted(storage.path_for(ref) for ref in refs)


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    storage = FilesystemStorage(tmp_path)
    ref = ref_for(b"new")
    fail_replace(monkeypatch)
    with pytest.raises(ServiceUnavailable) as caught:
        storage.put(ref, b"new")
    assert str(tmp_path) not in caught.value.message
    assert all_files(tmp_path) == []
    assert not storage.exists(ref)


def test_failed_overwrite_keeps_old_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = FilesystemStorage(tmp_path)
    ref = ref_for(b"url", Namespace.EXTERNAL)
    storage.put(ref, b"first fetch")
    fail_replace(monkeypatch)
    with pytest.raises(ServiceUnavailable):
        storage.put(ref, b"a changed, longer second fetch")
    assert storage.get(ref) == b"first fetch"
    assert all_files(tmp_path) == [storage.path_for(ref)]


def test_changed_external_object_is_replaced(tmp_path: Path) -> None:
    storage = FilesystemStorage(tmp_path)
    ref = ref_for(b"url", Namespace.EXTERNAL)
    storage.put(ref, b"first fetch")
    storage.put(ref, b"a longer second fetch")
    assert storage.get(ref) == b"a longer second fetch"


def test_existing_object_is_not_rewritten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    storage = FilesystemStorage(tmp_path)
    ref = ref_for(b"stored once")
    storage.put(ref, b"stored once")
    fail_replace(monkeypatch)  # a second write would now fail
    storage.put(ref, b"stored once")
    assert storage.get(ref) == b"stored once"


def test_check_creates_the_root(tmp_path: Path) -> None:
    root = tmp_path / "a" / "b"
    FilesystemStorage(root).check()
    assert root.is_dir()


def test_check_fails_when_root_is_a_file(tmp_path: Path) -> None:
    root = tmp_path / "file"
    root.write_bytes(b"")
    with pytest.raises(ServiceUnavailable):
        FilesystemStorage(root).check()


def test_check_fails_when_root_takes_no_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def mkstemp(**kwargs: object) -> tuple[int, str]:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    with pytest.raises(ServiceUnavailable, match="Permission denied"):
        FilesystemStorage(tmp_path).check()


def test_unreadable_object_is_service_unavailable(tmp_path: Path) -> None:
    storage = FilesystemStorage(tmp_path)
    ref = ref_for(b"odd")
    storage.path_for(ref).mkdir(parents=True)  # a directory where the object should be
    with pytest.raises(ServiceUnavailable):
        storage.get(ref)


@pytest.mark.parametrize("parts", [("..", "x"), ("a", "..", "..", "x"), ("/etc",), ()])
def test_contained_path_refuses_escapes(tmp_path: Path, parts: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="outside"):
        contained_path(tmp_path, *parts)


def test_contained_path_allows_children(tmp_path: Path) -> None:
    assert contained_path(tmp_path, "a", "b") == tmp_path.resolve() / "a" / "b"
