"""Rendered variants on a local filesystem, bounded in size with least-recently-used eviction.

An entry is one file, `root/namespace/ab/<hash>/<variant>.<type>`, holding exactly the body
(so it can be sent as it is: `sendfile(2)`, or NGINX's `X-Accel-Redirect`), its media type
named by the suffix (`.jpeg`, `.webp`, `.avif`, `.png`, `.gif`: the types the engines write;
a lookup tries each), written atomically (temp file + `os.replace`); a put removes the key's
entries of other types. Entries of the earlier format (`<variant>`, the media type on a first
line) are never read: misses, evicted first as the least recently used. The file's mtime is
the entry's last use: put sets it and every hit bumps it. Each process counts the bytes it writes
since its last sweep; when its estimate may exceed `max_bytes` it scans the directory and evicts
the oldest entries down to 90% of `max_bytes`. The directory is the only truth, so several
processes can share it; files vanishing under a scan are expected and skipped. With N
processes the bound is approximate: each may write about 10% of `max_bytes` before it sweeps.
The cache is best-effort: read and write failures are logged and served as misses.

`render_lock` is the cross-process half of one render per variant (`caches/flight.py`): an
`flock` on `root/.locks/<namespace>-<hash>-<variant>`, which its holder unlinks before it lets
go (a waiter that then finds a different file at the path locks again); sweeps never look there.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from images_server.caches.base import CachedFile, CachedResult, CacheKey
from images_server.errors import ServiceUnavailable
from images_server.hashing import ImageRef, Namespace
from images_server.storages.filesystem import (
    TEMP_PREFIX,
    ensure_writable_dir,
    write_atomically,
)

_log = logging.getLogger(__name__)

_VARIANT = re.compile(r"[0-9a-f]{16,128}")
# The media types an entry may have, by file suffix, in the order a lookup tries them.
SUFFIXES = {
    "image/jpeg": ".jpeg",
    "image/webp": ".webp",
    "image/avif": ".avif",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/jxl": ".jxl",
}
_MISSING_ERRORS = (FileNotFoundError, NotADirectoryError)
SWEEP_TARGET = 0.9
LOCKS_DIR = ".locks"
_LOCK_POLL = (0.005, 0.05)  # seconds between tries for a held lock: first, at most
# Temp files older than this belong to a writer that died mid-put; sweeps remove them.
STALE_TEMP_NS = 3600 * 1_000_000_000


@dataclass(frozen=True)
class _Entry:
    path: str
    size: int
    mtime_ns: int


def _suffix(media_type: str) -> str:
    suffix = SUFFIXES.get(media_type)
    if suffix is None:
        raise ValueError(f"not a cacheable media type: {media_type!r}")
    return suffix


def _subdirs(path: str) -> list[str]:
    try:
        with os.scandir(path) as items:
            return [item.path for item in items if item.is_dir(follow_symlinks=False)]
    except _MISSING_ERRORS:
        return []


def _acquire(path: str, deadline: float) -> tuple[int | None, bool]:
    """An open, `flock`ed descriptor of the file at `path` (None past `deadline`), and whether
    it had to wait."""
    waited = False
    pause = _LOCK_POLL[0]
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            continue
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    waited = True
                    if time.monotonic() >= deadline:
                        os.close(fd)
                        return None, True
                    time.sleep(pause)
                    pause = min(pause * 2, _LOCK_POLL[1])
            held = os.fstat(fd)
            try:
                now = os.stat(path)
            except FileNotFoundError:
                now = None
            if now is not None and (now.st_ino, now.st_dev) == (held.st_ino, held.st_dev):
                return fd, waited
            os.close(fd)  # its holder unlinked it before letting go: lock the new file
        except BaseException:
            with contextlib.suppress(OSError):
                os.close(fd)
            raise


class FilesystemCache:
    """The `ResultCache` under `root`, holding at most about `max_bytes` of files."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = Path(os.path.abspath(root))
        self._root_text = str(self.root)
        self.max_bytes = int(max_bytes)
        self.target_bytes = int(self.max_bytes * SWEEP_TARGET)
        self._lock = threading.Lock()
        self._sweeping = threading.Lock()
        self._known_total: int | None = None  # bytes on disk after this process's last sweep
        self._written = 0  # bytes this process wrote since then

    def get(self, key: CacheKey) -> CachedResult | None:
        hit = self.open(key)
        if hit is None:
            return None
        try:
            body = hit.read()
        except OSError as exc:
            _log.warning("result cache read failed: %s", exc.strerror)
            return None
        finally:
            hit.close()
        return CachedResult(body, hit.media_type)

    def open(self, key: CacheKey) -> CachedFile | None:
        """`key`'s entry as its open file, or None; a hit counts as a use (its mtime)."""
        base = _entry_part(key)
        for media_type, suffix in SUFFIXES.items():
            relative = f"{base}{suffix}"
            path = f"{self._root_text}/{relative}"
            try:
                file = open(path, "rb", buffering=0)  # noqa: SIM115 - CachedFile closes it
            except _MISSING_ERRORS:
                continue
            except OSError as exc:
                _log.warning("result cache read failed: %s", exc.strerror)
                return None
            try:
                size = os.fstat(file.fileno()).st_size
            except OSError as exc:
                file.close()
                _log.warning("result cache read failed: %s", exc.strerror)
                return None
            now = time.time_ns()
            with contextlib.suppress(OSError):  # evicted meanwhile: the open file still holds it
                os.utime(path, ns=(now, now))
            return CachedFile(file, size, media_type, relative)
        return None

    def put(self, key: CacheKey, result: CachedResult) -> None:
        base = self._entry_path(key)
        suffix = _suffix(result.media_type)
        size = len(result.body)
        if size > self.target_bytes:
            return  # it would evict everything, itself included
        try:
            write_atomically(Path(f"{base}{suffix}"), result.body, mtime_ns=time.time_ns())
            for other in (*SUFFIXES.values(), ""):  # "": the key's entry of the earlier format
                if other != suffix:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(f"{base}{other}")
            if self._note_written(size):
                self.sweep()
        except OSError as exc:
            _log.warning("result cache write failed: %s", exc.strerror)

    def purge(self, image: ImageRef) -> int:
        directory = self._image_dir(image)
        removed = freed = 0
        try:
            with os.scandir(directory) as items:
                for item in items:
                    if item.name.startswith(TEMP_PREFIX):
                        continue  # a put in flight: its directory stays, which is harmless
                    with contextlib.suppress(FileNotFoundError):
                        size = item.stat(follow_symlinks=False).st_size
                        os.unlink(item.path)
                        removed, freed = removed + 1, freed + size
        except _MISSING_ERRORS:
            return 0
        except OSError as exc:
            raise ServiceUnavailable(f"result cache purge failed ({exc.strerror})") from exc
        with contextlib.suppress(OSError):
            os.rmdir(directory)
        with self._lock:
            if self._known_total is not None:
                self._known_total = max(0, self._known_total - freed)
        return removed

    def check(self) -> None:
        ensure_writable_dir(self.root, "the result cache directory")

    @contextmanager
    def render_lock(self, key: CacheKey, timeout: float) -> Iterator[bool]:
        """Hold `key`'s lock file, waiting at most `timeout` s; yields whether it waited.
        Past the timeout, or when the lock cannot be taken at all, it yields True unlocked."""
        path = (
            os.path.join(self.root, LOCKS_DIR, f"{key.image.namespace.value}-{key.image.hash}-")
            + self._entry_path(key).name
        )
        try:
            fd, waited = _acquire(path, time.monotonic() + timeout)
        except OSError as exc:
            _log.warning("result cache lock failed: %s", exc.strerror)
            fd, waited = None, True
        try:
            yield waited
        finally:
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.unlink(path)  # before letting go: see _acquire
                os.close(fd)

    def sweep(self) -> int:
        """Scan the directory and evict the least recently used entries; returns how many.

        Eviction starts when the total exceeds `max_bytes` and stops at `target_bytes`.
        """
        if not self._sweeping.acquire(blocking=False):
            return 0  # another thread of this process is sweeping already
        try:
            with self._lock:
                written_before = self._written
            evicted, remaining = self._evict(self._scan())
            with self._lock:
                self._written -= written_before
                self._known_total = remaining
            return evicted
        finally:
            self._sweeping.release()

    def _note_written(self, size: int) -> bool:
        """Count `size` more bytes written; True when the total may now exceed the bound."""
        with self._lock:
            self._written += size
            if self._known_total is None:
                return True  # nothing known about the directory yet: learn it by sweeping
            return self._known_total + self._written > self.max_bytes

    def _scan(self) -> list[_Entry]:
        entries: list[_Entry] = []
        stale_before = time.time_ns() - STALE_TEMP_NS
        for directory in self._image_dirs():
            with contextlib.suppress(*_MISSING_ERRORS), os.scandir(directory) as items:
                for item in items:
                    try:
                        stat = item.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue
                    if item.name.startswith(TEMP_PREFIX):
                        if stat.st_mtime_ns < stale_before:
                            with contextlib.suppress(OSError):
                                os.unlink(item.path)
                    elif item.is_file(follow_symlinks=False):
                        entries.append(_Entry(item.path, stat.st_size, stat.st_mtime_ns))
        return entries

    def _evict(self, entries: list[_Entry]) -> tuple[int, int]:
        total = sum(entry.size for entry in entries)
        if total <= self.max_bytes:
            return 0, total
        evicted = 0
        for entry in sorted(entries, key=lambda entry: entry.mtime_ns):
            if total <= self.target_bytes:
                break
            total -= entry.size
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                continue  # purged or evicted by another process
            evicted += 1
            with contextlib.suppress(OSError):  # only succeeds once the image has no variants
                os.rmdir(os.path.dirname(entry.path))
        return evicted, total

    def _image_dirs(self) -> Iterator[str]:
        for namespace in Namespace:
            for shard in _subdirs(os.path.join(self.root, namespace.value)):
                yield from _subdirs(shard)

    def _image_dir(self, image: ImageRef) -> Path:
        return self.root / _image_part(image)

    def _entry_path(self, key: CacheKey) -> Path:
        return self.root / _entry_part(key)


def _image_part(image: ImageRef) -> str:
    """An image's directory under the root: an `ImageRef`'s namespace is one of a few names
    and its hash is hex, so it cannot leave the root."""
    return f"{image.namespace.value}/{image.hash[:2]}/{image.hash}"


def _entry_part(key: CacheKey) -> str:
    """`key`'s path under the root, without its suffix."""
    if not _VARIANT.fullmatch(key.variant):
        raise ValueError("a cache variant must be 16 to 128 lowercase hex characters")
    return f"{_image_part(key.image)}/{key.variant}"
