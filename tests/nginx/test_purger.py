"""`NginxPurger` against the real NGINX purge endpoint (nginx/images_purge.pm)."""

from __future__ import annotations

import pytest
import requests

from images_server.caches.nginx import NginxPurger
from images_server.errors import ServiceUnavailable
from images_server.hashing import ImageRef, Namespace
from tests.nginx.conftest import Stack
from tests.nginx.test_cache import get, upload


def test_counts_what_it_purged_and_only_that_image(stack: Stack) -> None:
    kept, purged = upload(stack), upload(stack)
    for hash_ in (kept, purged):
        for path in ("", "/resize/10x", "/resize/10x?format=auto"):
            get(f"{stack.url}/image/{hash_}{path}")
    purger = NginxPurger(stack.purge_url)
    assert purger.purge(ImageRef(Namespace.ORIGINALS, purged)) == 3
    assert purger.purge(ImageRef(Namespace.ORIGINALS, purged)) == 0
    assert get(f"{stack.url}/image/{purged}/resize/10x").headers["X-Cache-Status"] == "MISS"
    assert get(f"{stack.url}/image/{kept}/resize/10x").headers["X-Cache-Status"] == "HIT"


def test_the_purge_server_answers_only_image_paths(stack: Stack) -> None:
    for path in ("/_purge/image/ABC", "/_purge/image/" + "a" * 63, "/image/" + "a" * 64):
        base = stack.purge_url.removesuffix("/_purge")
        assert requests.request("PURGE", base + path, timeout=30).status_code == 404


def test_an_unreachable_nginx_is_service_unavailable() -> None:
    with pytest.raises(ServiceUnavailable, match="unreachable"):
        NginxPurger("http://127.0.0.1:9/_purge").purge(ImageRef(Namespace.ORIGINALS, "a" * 64))
