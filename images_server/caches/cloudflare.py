"""The Cloudflare `Purger`: drops an image's URLs from a Cloudflare zone's cache.

Enabled by `IMAGES_CLOUDFLARE_ZONE_ID` + `IMAGES_CLOUDFLARE_API_TOKEN`, with
`IMAGES_CDN_BASE_URL` naming the host the CDN serves. The result cache keys variants by
digest, so the app cannot list their URLs; instead it purges by *prefix*, which Cloudflare
offers on every plan: one `POST {api}/zones/{zone}/purge_cache` with
`{"prefixes": ["cdn.example.com/image/<hash>"]}` drops the original, its metadata and every
variant (any pipeline, any query string). A hash has a fixed length, so the prefix matches
no other image. Cloudflare does not count what it dropped: `purge` returns -1. A refused or
unreachable API is `ServiceUnavailable` (the token never appears in a message).
`http_purgers(settings)` builds the HTTP-cache purgers (NGINX, then Cloudflare) for
`images_server.wiring`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from images_server.caches.nginx import NginxPurger
from images_server.caches.purge import Purger
from images_server.errors import ServiceUnavailable
from images_server.hashing import ImageRef, Namespace
from images_server.settings import Settings

API_BASE = "https://api.cloudflare.com/client/v4"


@dataclass(frozen=True)
class CloudflarePurger:
    zone_id: str
    api_token: str
    cdn_base_url: str  # e.g. https://cdn.example.com (a path prefix is kept)
    api_base: str = API_BASE  # tests point it at a local stand-in
    timeout: float = 10.0
    name: str = "cloudflare"

    def prefix(self, image: ImageRef) -> str:
        """The purge prefix of `image`: host and path, without the scheme (Cloudflare's form)."""
        base = urlsplit(self.cdn_base_url)
        return f"{base.netloc}{base.path.rstrip('/')}/image/{image.hash}"

    def purge(self, image: ImageRef) -> int:
        if image.namespace is not Namespace.ORIGINALS:
            return 0  # only /image/<hash> URLs are handed out on the CDN
        request = urllib.request.Request(  # noqa: S310 - an operator-set https URL
            f"{self.api_base.rstrip('/')}/zones/{self.zone_id}/purge_cache",
            data=json.dumps({"prefixes": [self.prefix(image)]}).encode(),
            headers={
                "Authorization": f"Bearer {self.api_token}",
                "Content-Type": "application/json",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = json.load(response)
        except urllib.error.HTTPError as error:
            with error:
                detail = _errors(error.read())
            raise ServiceUnavailable(
                f"Cloudflare refused the purge ({error.code}{detail})"
            ) from error
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise ServiceUnavailable(f"Cloudflare's purge API is unreachable ({error})") from error
        if not isinstance(body, dict) or body.get("success") is not True:
            raise ServiceUnavailable(
                f"Cloudflare did not purge{_errors(json.dumps(body).encode())}"
            )
        return -1


def _errors(raw: bytes) -> str:
    """Cloudflare's error messages from a response body, as `: message; message`."""
    try:
        errors = json.loads(raw).get("errors") or []
        messages = [str(item.get("message", "")) for item in errors if isinstance(item, dict)]
    except (ValueError, AttributeError):
        return ""
    return ": " + "; ".join(messages) if messages else ""


def http_purgers(settings: Settings) -> tuple[Purger, ...]:
    """The purgers of the HTTP caches in front of the app, inner first: NGINX, then the CDN
    (so a CDN miss right after the purge cannot refill from a stale NGINX copy)."""
    purgers: list[Purger] = []
    if settings.nginx_purge_url:
        purgers.append(NginxPurger(settings.nginx_purge_url))
    zone, token = settings.cloudflare_zone_id, settings.cloudflare_api_token
    if zone and token and settings.cdn_base_url:  # Settings refuses any part without the rest
        purgers.append(CloudflarePurger(zone, token, settings.cdn_base_url))
    return tuple(purgers)
