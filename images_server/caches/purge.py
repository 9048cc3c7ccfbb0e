"""The `Purger` Protocol: anything that can forget every cached variant of one image.

The result cache is always purged first; HTTP caches in front of the app (NGINX) and a CDN
plug in as more purgers (`Services.purgers`). `purge_everywhere` runs them all and reports
how many entries each dropped; a purger that cannot be reached raises `ServiceUnavailable`,
so `POST /purge` answers 503 and the client can try again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from images_server.caches.base import ResultCache
from images_server.hashing import ImageRef


class Purger(Protocol):
    @property
    def name(self) -> str:
        """How the purge report names this cache."""

    def purge(self, image: ImageRef) -> int:
        """Drop every cached entry of `image`; how many were dropped (-1 when unknown)."""


@dataclass(frozen=True)
class ResultCachePurger:
    cache: ResultCache
    name: str = "result_cache"

    def purge(self, image: ImageRef) -> int:
        return self.cache.purge(image)


def purge_everywhere(purgers: tuple[Purger, ...], image: ImageRef) -> dict[str, int]:
    """Run every purger on `image`, in order; entries dropped, by purger name."""
    return {purger.name: purger.purge(image) for purger in purgers}
