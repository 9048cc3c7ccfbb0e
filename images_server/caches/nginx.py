"""The NGINX `Purger`: evicts every cached response of an image from NGINX's `proxy_cache`.

`nginx/nginx.conf` keys its cache on the request URI (plus the Accept bucket) and caches only
URIs that start with `/image/<hash>`; its internal purge server answers
`PURGE /_purge/image/<hash>` by deleting every cache file whose key starts with
`/image/<hash>` (nginx/images_purge.pm) and replies `{"purged": N}`.
`IMAGES_NGINX_PURGE_URL` names that endpoint. An unreachable or failing endpoint is
`ServiceUnavailable`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

from images_server.errors import ServiceUnavailable
from images_server.hashing import ImageRef, Namespace


@dataclass(frozen=True)
class NginxPurger:
    purge_url: str  # e.g. http://nginx:8080/_purge
    timeout: float = 30.0  # the purge walks NGINX's cache directory
    name: str = "nginx"

    def purge(self, image: ImageRef) -> int:
        if image.namespace is not Namespace.ORIGINALS:
            return 0  # NGINX caches /image/<hash> only; /external passes through
        url = f"{self.purge_url.rstrip('/')}/image/{image.hash}"
        request = urllib.request.Request(url, method="PURGE")  # noqa: S310 - operator URL
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = json.load(response)
        except urllib.error.HTTPError as error:
            error.close()
            raise ServiceUnavailable(f"the NGINX purge endpoint answered {error.code}") from error
        except (urllib.error.URLError, OSError, ValueError) as error:
            message = f"the NGINX purge endpoint is unreachable: {error}"
            raise ServiceUnavailable(message) from error
        purged = body.get("purged") if isinstance(body, dict) else None
        if not isinstance(purged, int):
            raise ServiceUnavailable("the NGINX purge endpoint did not say what it purged")
        return purged
