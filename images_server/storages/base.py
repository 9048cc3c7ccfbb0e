"""The `Storage` Protocol: where originals live, addressed only by `ImageRef`.

Implementations map their library's errors at this boundary: a missing object is
`ImageNotFound`, an unreachable backend is `ServiceUnavailable`.
"""

from __future__ import annotations

from typing import Protocol

from images_server.hashing import ImageRef


class Storage(Protocol):
    def put(self, ref: ImageRef, data: bytes) -> None:
        """Store `data` under `ref` atomically (readers see all of it or nothing)."""

    def get(self, ref: ImageRef) -> bytes:
        """The stored bytes; `ImageNotFound` when absent."""

    def exists(self, ref: ImageRef) -> bool: ...

    def delete(self, ref: ImageRef) -> bool:
        """Remove `ref`; True when something was removed."""

    def check(self) -> None:
        """Readiness: return when reachable, raise `ServiceUnavailable` otherwise."""
