"""The `ResultCache` Protocol: rendered variants keyed by image and normalised pipeline.

A key is an `ImageRef` plus a `variant` digest computed by `pipeline.plan` (normalised
pipeline, output format, engine version); `purge` drops every variant of one image.

A cache whose entries are whole local files (`FileHits`: the filesystem cache) also hands a
hit out as its open file, a `CachedFile`, so the response can be sent from the descriptor
(`sendfile(2)`) or by NGINX from the path (`X-Accel-Redirect`) without the bytes passing
through Python (`http/responses.py`).
"""

from __future__ import annotations

import os
import weakref
from dataclasses import dataclass
from typing import BinaryIO, Protocol, TypeGuard, runtime_checkable

from images_server.hashing import ImageRef


@dataclass(frozen=True)
class CacheKey:
    image: ImageRef
    variant: str  # lowercase hex digest, validated by the caches that put it in a path


@dataclass(frozen=True)
class CachedResult:
    body: bytes
    media_type: str


class ResultCache(Protocol):
    def get(self, key: CacheKey) -> CachedResult | None: ...

    def put(self, key: CacheKey, result: CachedResult) -> None: ...

    def purge(self, image: ImageRef) -> int:
        """Drop every cached variant of `image`; returns how many were dropped."""

    def check(self) -> None:
        """Readiness: return when usable, raise `ServiceUnavailable` otherwise."""


class CachedFile:
    """A hit that is all of one local file, open for reading: `size` bytes of `media_type`,
    at `relative` under the cache's root ('/'-separated). The open descriptor keeps the bytes
    whole even if the entry is evicted or purged meanwhile. Whoever takes it closes it; one
    dropped unclosed is closed when it is collected."""

    __slots__ = ("__weakref__", "_closer", "file", "media_type", "relative", "size")

    def __init__(self, file: BinaryIO, size: int, media_type: str, relative: str) -> None:
        self.file = file
        self.size = size
        self.media_type = media_type
        self.relative = relative
        self._closer = weakref.finalize(self, file.close)

    def read(self) -> bytes:
        """All its bytes, read now (from the start, wherever `file` stands); OSError if the
        disk fails."""
        fd, chunks, offset = self.file.fileno(), [], 0
        while offset < self.size:
            chunk = os.pread(fd, self.size - offset, offset)
            if not chunk:
                break
            chunks.append(chunk)
            offset += len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self._closer()


@runtime_checkable
class FileHits(Protocol):
    def open(self, key: CacheKey) -> CachedFile | None:
        """`key`'s variant as its open file (a hit, a use like `get`), or None: a miss."""


_FILE_HITS_BY_TYPE: dict[type, bool] = {}


def hands_files(cache: object) -> TypeGuard[FileHits]:
    """Whether `cache` is a `FileHits`, asked once per type: a runtime protocol check costs
    tens of microseconds, and every request asks."""
    kind = type(cache)
    known = _FILE_HITS_BY_TYPE.get(kind)
    if known is None:
        known = _FILE_HITS_BY_TYPE[kind] = issubclass(kind, FileHits)
    return known
