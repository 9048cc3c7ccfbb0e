"""Originals on a local filesystem, sharded by hash: `root/namespace/ab/cd/abcd…`.

Writes are atomic (a temp file in the target directory, fsync, `os.replace`), so readers see a
whole object or nothing and a crash leaves no partial object. Paths are built only from
`ImageRef` fields and are still checked to stay inside the root. The helpers for atomic writes,
contained paths and writability checks are shared with the filesystem result cache. OS errors
other than "not there" become `ServiceUnavailable` whose message names no server path.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from images_server.errors import ImageNotFound, ServiceUnavailable
from images_server.hashing import ImageRef

TEMP_PREFIX = ".tmp-"
# mkstemp creates files 0600; entries are plain data that other local users/tools may read.
_FILE_MODE = 0o644
_MISSING_ERRORS = (FileNotFoundError, NotADirectoryError)


def contained_path(root: Path, *parts: str) -> Path:
    """`root/parts…`, refusing (ValueError) anything that would resolve outside `root`."""
    base = os.path.abspath(root)
    candidate = os.path.normpath(os.path.join(base, *parts))
    if os.path.commonpath([base, candidate]) != base or candidate == base:
        raise ValueError("refusing a path outside the storage root")
    return Path(candidate)


def write_atomically(path: Path, *chunks: bytes, mtime_ns: int | None = None) -> None:
    """Write `chunks` to `path` via a temp file in the same directory and `os.replace`.

    The temp file is removed on any failure, so an error never leaves debris or a partial file.
    The data is fsynced before the rename, so a crash cannot expose a named but hollow file.
    """
    fd, temp_name = _make_temp(path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fchmod(handle.fileno(), _FILE_MODE)
            os.fsync(handle.fileno())
        if mtime_ns is not None:
            os.utime(temp_name, ns=(mtime_ns, mtime_ns))
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise


def _make_temp(directory: Path) -> tuple[int, str]:
    directory.mkdir(parents=True, exist_ok=True)
    try:
        return tempfile.mkstemp(dir=directory, prefix=TEMP_PREFIX)
    except FileNotFoundError:
        # A concurrent cleanup removed the (empty) directory after our mkdir: once more.
        directory.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(dir=directory, prefix=TEMP_PREFIX)


PROBE_BYTES = 4096  # one page: a full disk refuses it, where an empty file may still fit


def ensure_writable_dir(root: Path, what: str) -> None:
    """Create `root` if needed and prove it takes writes, else `ServiceUnavailable` naming the
    cause (`ENOSPC`, `EROFS`, ...): a small file is written, fsynced and removed, since an
    empty file (or `access()`) still passes on a full or read-only-remounted disk."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=root, prefix=TEMP_PREFIX + "ready-")
        try:
            data = memoryview(b"\0" * PROBE_BYTES)
            while data:  # a short write means the disk took what it had left: ask again
                data = data[os.write(fd, data) :]
            os.fsync(fd)
        finally:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(probe)
    except OSError as exc:
        code = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
        raise ServiceUnavailable(f"{what} is not writable ({code}: {_reason(exc)})") from exc


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


class FilesystemStorage:
    """The `Storage` of originals under `root`, one file per `ImageRef`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.abspath(root))

    def path_for(self, ref: ImageRef) -> Path:
        digest = ref.hash
        return contained_path(self.root, ref.namespace.value, digest[:2], digest[2:4], digest)

    def put(self, ref: ImageRef, data: bytes) -> None:
        """Store `data`; a no-op when an object of that size is already there.

        Keys are content hashes (originals) or URL hashes (external), so an existing object is
        the same object; the size comparison only lets a changed external fetch replace it.
        """
        path = self.path_for(ref)
        try:
            if path.stat().st_size == len(data):
                return
        except _MISSING_ERRORS:
            pass
        except OSError as exc:
            raise self._unavailable("stat", exc) from exc
        try:
            write_atomically(path, data)
        except OSError as exc:
            raise self._unavailable("write", exc) from exc

    def get(self, ref: ImageRef) -> bytes:
        try:
            return self.path_for(ref).read_bytes()
        except _MISSING_ERRORS as exc:
            raise ImageNotFound() from exc
        except OSError as exc:
            raise self._unavailable("read", exc) from exc

    def exists(self, ref: ImageRef) -> bool:
        try:
            return self.path_for(ref).is_file()
        except OSError as exc:
            raise self._unavailable("stat", exc) from exc

    def delete(self, ref: ImageRef) -> bool:
        # Shard directories stay: removing them would race with a concurrent put.
        try:
            self.path_for(ref).unlink()
        except _MISSING_ERRORS:
            return False
        except OSError as exc:
            raise self._unavailable("delete", exc) from exc
        return True

    def check(self) -> None:
        ensure_writable_dir(self.root, "the filesystem storage root")

    @staticmethod
    def _unavailable(action: str, exc: OSError) -> ServiceUnavailable:
        return ServiceUnavailable(f"filesystem storage {action} failed ({_reason(exc)})")
