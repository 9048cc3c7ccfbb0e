"""The `ResultCache` Protocol: rendered variants keyed by image and normalised pipeline.

A key is an `ImageRef` plus a `variant` digest computed by `pipeline.plan` (normalised
pipeline, output format, engine version); `purge` drops every variant of one image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

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
