"""The types every part of the server sees its services through; `wiring` builds them.

`Services` is what one app (or job worker, or `images-server pack`) runs with: the settings,
the storage, the result cache, the engine and the rest, built once from `Settings` by
`images_server.wiring` and passed as an argument (no global state). This module only declares
them, so any module may import it without importing their implementations. The job queue is
seen through `JobQueue`, what requests ask of it; the queue's tasks run on services of their
own (without the queue), so nothing here points back at the object that holds it.

`database` is the SQLAlchemy engine of the metadata database; hand-built services may leave it
None, and then uploads keep no rows and metadata is read from the stored bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Engine as DatabaseEngine

from images_server.caches.base import ResultCache
from images_server.caches.purge import Purger, ResultCachePurger
from images_server.engines.base import Engine
from images_server.errors import ServiceUnavailable
from images_server.formats.sniff import SourceInfo
from images_server.hashing import ImageRef
from images_server.security.auth import KeyChecker
from images_server.security.fetch import FetchPolicy
from images_server.security.ratelimit import Limiter
from images_server.security.signing import SigningKeys
from images_server.settings import Settings
from images_server.storages.base import Storage


class JobQueue(Protocol):
    """The background work a request may ask for, and the queue's readiness."""

    def enqueue_after_upload(self, ref: ImageRef, info: SourceInfo | None = None) -> bool:
        """Queue a new original's derivatives and eager variants; False if not queued."""

    def enqueue_derivatives(self, ref: ImageRef) -> bool:
        """Queue an original's derivatives again; False if off or not queued."""

    def enqueue_pack(self, pack_id: str) -> None:
        """Queue a pack's job; raises when the queue is down."""

    def waiting(self) -> int:
        """Jobs waiting; `ServiceUnavailable` when the queue cannot be read."""

    def check_workers(self, max_age: float, started: float, waiting: int) -> str | None:
        """None, or a note, when a job worker is alive or nothing waits for one; else
        `ServiceUnavailable`."""


@dataclass(frozen=True)
class Services:
    settings: Settings
    storage: Storage
    cache: ResultCache
    engine: Engine
    fetch_policy: FetchPolicy
    limiter: Limiter = field(default_factory=Limiter.unlimited)  # hand-built services: no limits
    database: DatabaseEngine | None = None  # hand-built services: no metadata database
    http_purgers: tuple[Purger, ...] = ()  # caches in front of the app: NGINX, a CDN
    jobs: JobQueue | None = None  # hand-built services, and the jobs' own: no queue
    signing_keys: SigningKeys = field(default_factory=SigningKeys)
    key_checker: KeyChecker | None = None  # the app's API keys (wiring.for_web adds them)

    def require_database(self) -> DatabaseEngine:
        """The metadata database; `ServiceUnavailable` (503) when there is none."""
        if self.database is None:
            raise ServiceUnavailable("no metadata database (see the server log)")
        return self.database

    @property
    def purgers(self) -> tuple[Purger, ...]:
        """Everything that caches variants, the result cache first."""
        return (ResultCachePurger(self.cache), *self.http_purgers)
