"""`FilesystemCache`: the cache contract, plus its on-disk layout, LRU sweeps and sharing."""

from __future__ import annotations

import errno
import logging
import os
import time
from pathlib import Path

import pytest

from images_server.caches.base import CachedResult, ResultCache
from images_server.caches.filesystem import STALE_TEMP_NS, FilesystemCache, _Entry
from images_server.errors import ServiceUnavailable
from images_server.hashing import ImageRef
from images_server.storages.filesystem import TEMP_PREFIX
from tests.caches.contract import MAX_BYTES, VARIANT, SizeBoundedContract, image, jpeg, key, variant


def entry_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def disk_bytes(root: Path) -> int:
    return sum(path.stat().st_size for path in entry_files(root))


class TestFilesystemCache(SizeBoundedContract):
    @pytest.fixture
    def cache(self, tmp_path: Path) -> FilesystemCache:
        return FilesystemCache(tmp_path / "cache", self.MAX_BYTES)

    def stored_bytes(self, cache: ResultCache) -> int:
        assert isinstance(cache, FilesystemCache)
        return disk_bytes(cache.root)


@pytest.fixture
def cache(tmp_path: Path) -> FilesystemCache:
    return FilesystemCache(tmp_path, MAX_BYTES)


def test_layout(cache: FilesystemCache, tmp_path: Path) -> None:
    ref = image("a")
    cache.put(key("a"), CachedResult(b"body", "image/png"))
    path = tmp_path / "originals" / ref.hash[:2] / ref.hash / f"{VARIANT}.png"
    assert entry_files(tmp_path) == [path]
    assert path.read_bytes() == b"body"  # the body alone: sendable as it is


def test_a_hit_opens_the_entry_file(cache: FilesystemCache, tmp_path: Path) -> None:
    cache.put(key("a"), CachedResult(b"body", "image/avif"))
    [path] = entry_files(tmp_path)
    hit = cache.open(key("a"))
    assert hit is not None
    assert (hit.size, hit.media_type) == (4, "image/avif")
    assert tmp_path / hit.relative == path
    assert os.path.samestat(os.fstat(hit.file.fileno()), path.stat())
    path.unlink()  # evicted or purged while being sent: the open file still holds the bytes
    assert hit.read() == b"body"
    hit.close()
    assert hit.file.closed
    assert cache.open(key("a")) is None


def test_a_put_of_another_type_replaces_the_entry(cache: FilesystemCache, tmp_path: Path) -> None:
    cache.put(key("a"), jpeg(b"first"))
    cache.put(key("a"), CachedResult(b"second", "image/webp"))
    assert [path.suffix for path in entry_files(tmp_path)] == [".webp"]


@pytest.mark.parametrize(
    "bad",
    ["0123456789ABCDEF", "0123456789abcde", "a" * 129, "0123456789abcdeg", "../" * 8, ""],
)
def test_variant_must_be_lowercase_hex(cache: FilesystemCache, bad: str) -> None:
    with pytest.raises(ValueError, match="variant"):
        cache.get(key("a", bad))
    with pytest.raises(ValueError, match="variant"):
        cache.put(key("a", bad), jpeg(b"body"))


@pytest.mark.parametrize("bad", ["image/png\nx", "", "image", "image/ png", "a/" + "b" * 130])
def test_media_type_must_be_plain(cache: FilesystemCache, bad: str) -> None:
    with pytest.raises(ValueError, match="media type"):
        cache.put(key("a"), CachedResult(b"body", bad))


def test_hit_bumps_mtime(cache: FilesystemCache, tmp_path: Path) -> None:
    cache.put(key("a"), jpeg(b"body"))
    [path] = entry_files(tmp_path)
    os.utime(path, (1_000_000, 1_000_000))
    assert cache.get(key("a")) is not None
    assert path.stat().st_mtime > time.time() - 60


def test_puts_leave_no_temp_files(cache: FilesystemCache, tmp_path: Path) -> None:
    for n in range(30):
        cache.put(key(f"i{n % 3}", variant(n)), jpeg(b"x" * 300))
    assert not [path for path in tmp_path.rglob(f"{TEMP_PREFIX}*")]


def test_failed_write_is_a_logged_no_op(
    cache: FilesystemCache,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache.put(key("a"), jpeg(b"old"))

    def replace(src: object, dst: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", replace)
    with caplog.at_level(logging.WARNING):
        cache.put(key("a"), jpeg(b"new"))
        cache.put(key("b"), jpeg(b"new"))
    assert "No space left on device" in caplog.text
    assert cache.get(key("a")) == jpeg(b"old")
    assert len(entry_files(tmp_path)) == 1


def test_purge_removes_the_image_directory(cache: FilesystemCache, tmp_path: Path) -> None:
    cache.put(key("a", variant(1)), jpeg(b"one"))
    cache.put(key("a", variant(2)), jpeg(b"two"))
    cache.put(key("b"), jpeg(b"b"))
    ref = image("a")
    assert cache.purge(ref) == 2
    assert not (tmp_path / "originals" / ref.hash[:2] / ref.hash).exists()
    assert len(entry_files(tmp_path)) == 1


def test_two_instances_share_the_directory(tmp_path: Path) -> None:
    first, second = FilesystemCache(tmp_path, MAX_BYTES), FilesystemCache(tmp_path, MAX_BYTES)
    first.put(key("a"), jpeg(b"from first"))
    assert second.get(key("a")) == jpeg(b"from first")
    second.put(key("b"), jpeg(b"from second"))
    assert first.get(key("b")) == jpeg(b"from second")
    assert second.purge(image("a")) == 1
    assert first.get(key("a")) is None


def test_reads_through_one_instance_protect_from_sweeps_of_another(tmp_path: Path) -> None:
    writer, reader = FilesystemCache(tmp_path, MAX_BYTES), FilesystemCache(tmp_path, MAX_BYTES)
    body = b"x" * 1000
    for n in range(8):
        writer.put(key(f"img{n}"), jpeg(body))
    assert reader.get(key("img0")) is not None
    for n in range(8, 12):
        writer.put(key(f"img{n}"), jpeg(body))
    assert disk_bytes(tmp_path) <= MAX_BYTES
    assert reader.get(key("img0")) == jpeg(body)
    assert reader.get(key("img1")) is None


def test_first_put_sweeps_an_oversized_directory(tmp_path: Path) -> None:
    big = FilesystemCache(tmp_path, 10 * MAX_BYTES)
    for n in range(30):
        big.put(key(f"img{n}"), jpeg(b"x" * 1000))
    assert disk_bytes(tmp_path) > MAX_BYTES
    FilesystemCache(tmp_path, MAX_BYTES).put(key("new"), jpeg(b"small"))
    assert disk_bytes(tmp_path) <= MAX_BYTES * 0.9


def test_sweep_tolerates_entries_vanishing(
    cache: FilesystemCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    filler = FilesystemCache(tmp_path, 10 * MAX_BYTES)
    for n in range(15):
        filler.put(key(f"img{n}"), jpeg(b"x" * 1000))
    scan = cache._scan

    def scan_then_lose_some() -> list[_Entry]:
        entries = scan()
        for path in entry_files(tmp_path)[::2]:
            path.unlink()  # as if another process evicted them meanwhile
        return entries

    monkeypatch.setattr(cache, "_scan", scan_then_lose_some)
    evicted = cache.sweep()
    assert 0 < evicted < 15 - 8
    assert disk_bytes(tmp_path) <= MAX_BYTES * 0.9


def test_sweep_removes_stale_temp_files_only(cache: FilesystemCache, tmp_path: Path) -> None:
    cache.put(key("a"), jpeg(b"body"))
    directory = entry_files(tmp_path)[0].parent
    stale, fresh = directory / f"{TEMP_PREFIX}stale", directory / f"{TEMP_PREFIX}fresh"
    stale.write_bytes(b"partial")
    fresh.write_bytes(b"in flight")
    old = time.time_ns() - STALE_TEMP_NS - 1_000_000_000
    os.utime(stale, ns=(old, old))
    cache.sweep()
    assert not stale.exists()
    assert fresh.exists()
    assert cache.purge(image("a")) == 1  # the in-flight temp file is not a variant


def test_an_entry_of_the_earlier_format_is_a_miss(cache: FilesystemCache, tmp_path: Path) -> None:
    ref = image("a")
    old = tmp_path / "originals" / ref.hash[:2] / ref.hash / VARIANT
    old.parent.mkdir(parents=True)
    old.write_bytes(b"image/jpeg\nbody")  # <variant>, its media type on a first line
    assert cache.get(key("a")) is None
    assert cache.purge(ref) == 1  # still an entry to purge and sweep
    old.parent.mkdir(parents=True)
    old.write_bytes(b"image/jpeg\nbody")
    cache.put(key("a"), jpeg(b"body"))  # its replacement removes it
    assert entry_files(tmp_path) == [old.with_name(f"{VARIANT}.jpeg")]


def test_unreadable_entry_is_a_logged_miss(
    cache: FilesystemCache, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ref: ImageRef = image("a")
    (tmp_path / "originals" / ref.hash[:2] / ref.hash / f"{VARIANT}.jpeg").mkdir(parents=True)
    with caplog.at_level(logging.WARNING):
        assert cache.get(key("a")) is None
    assert "read failed" in caplog.text


def test_check_creates_the_directory(tmp_path: Path) -> None:
    root = tmp_path / "a" / "b"
    FilesystemCache(root, MAX_BYTES).check()
    assert root.is_dir()


def test_check_fails_when_the_directory_is_a_file(tmp_path: Path) -> None:
    root = tmp_path / "file"
    root.write_bytes(b"")
    with pytest.raises(ServiceUnavailable):
        FilesystemCache(root, MAX_BYTES).check()
