"""Per-client rate limits on uploads, `/external` and cache-missing renders (docs/api.md §2: `429`).

A thin layer over the `limits` library, with its *moving window* strategy: every allowed hit
is a timestamp, and a request is refused while the limit's amount of hits lie within the last
period. It is exact (no double burst across a fixed window's edge, no estimate as with the
sliding-window counter), and the oldest hit in the window says exactly when a slot frees,
which is the `Retry-After`. It stores at most the limit's amount of timestamps per client and
kind; refused hits are not recorded, so hammering at `429` does not extend the wait.

Counters live in `memory://` (per process: each gunicorn worker counts alone, so the effective
limit is the limit times the workers) or in Redis (`redis://host:port`, shared by every worker
and host). Keys are `images:<kind>:<client>`, inside the library's own prefix.

When Redis fails at request time the request is *allowed* (fail open) and a warning is logged
at most once a minute: serving images matters more than limiting them, and a limiter that
turned a Redis outage into a full outage would make Redis a single point of failure.
`check_storage` still reports the outage to `/readyz`. After a failure the store is left
alone for a second, so an unreachable Redis costs one timeout a second, not one per request.
A dead Redis (connection refused: at once) and a hung one (accepts connections, never answers:
`socket_timeout`, 0.5 s) fail open alike, so the limiter never holds a request longer than
that (tests/faults/test_redis_hung.py).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlparse

from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from images_server.errors import RateLimited, ServiceUnavailable
from images_server.settings import Settings

Kind = Literal["upload", "external", "render"]

log = logging.getLogger(__name__)

_NOUNS: dict[Kind, str] = {
    "upload": "uploads",
    "external": "/external requests",
    "render": "renders",
}
_REDIS_SCHEMES = frozenset({"redis", "rediss", "redis+unix"})
# Loopback or LAN Redis answers in a millisecond; these only bound a stalled or blackholed one.
_REDIS_OPTIONS = {"socket_connect_timeout": 0.25, "socket_timeout": 0.5}
_WARN_EVERY = 60.0
_BACKOFF = 1.0


def _parse(spec: str) -> tuple[RateLimitItem, ...]:
    """`"0"` (off) is no items; anything else is `limits` syntax, e.g. `10/second;600/minute`."""
    spec = spec.strip()
    return () if spec == "0" else tuple(parse_many(spec))


def _storage(url: str) -> Storage:
    scheme = urlparse(url).scheme
    if scheme != "memory" and scheme not in _REDIS_SCHEMES:
        raise ValueError(
            f"IMAGES_RATE_LIMIT_STORAGE_URL: {url!r} is neither memory:// nor redis://host:port"
        )
    options = _REDIS_OPTIONS if scheme in _REDIS_SCHEMES else {}
    storage = storage_from_string(url, wrap_exceptions=True, **options)
    assert isinstance(storage, Storage)  # the schemes above are all synchronous
    return storage


class Limiter:
    """Counts hits per (kind, client) and refuses the one past the limit with `RateLimited`."""

    def __init__(self, limits: Mapping[Kind, str], storage_url: str = "memory://") -> None:
        self._limits = {kind: _parse(spec) for kind, spec in limits.items()}
        self._storage = _storage(storage_url)
        self._strategy = MovingWindowRateLimiter(self._storage)
        self._lock = threading.Lock()
        self._warned_at = -math.inf
        self._down_until = -math.inf

    @classmethod
    def from_settings(cls, settings: Settings) -> Limiter:
        limits: dict[Kind, str] = {
            "upload": settings.rate_limit_uploads,
            "external": settings.rate_limit_external,
            "render": settings.rate_limit_renders,
        }
        return cls(limits, settings.rate_limit_storage_url)

    @classmethod
    def unlimited(cls) -> Limiter:
        """A limiter that allows everything: for services built by hand (tests, tools)."""
        return cls({})

    def check(self, kind: Kind, client: str) -> None:
        """Count one hit of `kind` for `client`; raise `RateLimited` if it is over a limit."""
        items = self._limits.get(kind, ())
        if not items or time.monotonic() < self._down_until:
            return
        key = f"images:{kind}:{client}"
        try:
            refused = self._over(items, key)
            if refused is None:
                return
            reset_at = self._strategy.get_window_stats(refused, key).reset_time
        except StorageError as exc:
            self._storage_failed(exc)
            return
        retry_after = max(1, math.ceil(reset_at - time.time()))
        raise RateLimited(
            retry_after,
            f"too many {_NOUNS[kind]} from this client (limit {refused}); retry in {retry_after} s",
        )

    def _over(self, items: tuple[RateLimitItem, ...], key: str) -> RateLimitItem | None:
        """The first limit the hit is over, or None once it is counted against every one."""
        if len(items) > 1:
            # Test all first, so a hit one limit of a list refuses is not counted by the others.
            over = next((item for item in items if not self._strategy.test(item, key)), None)
            if over is not None:
                return over
        return next((item for item in items if not self._strategy.hit(item, key)), None)

    def check_storage(self) -> None:
        """For readiness: raise `ServiceUnavailable` when the counters' store does not answer."""
        if not self._storage.check():
            raise ServiceUnavailable("the rate-limit store (Redis) does not answer")

    def _storage_failed(self, exc: StorageError) -> None:
        now = time.monotonic()
        with self._lock:
            self._down_until = now + _BACKOFF
            if now - self._warned_at < _WARN_EVERY:
                return
            self._warned_at = now
        log.warning("rate-limit store failed, allowing requests unlimited: %s", exc)
