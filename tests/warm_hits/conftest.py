"""The real stack for tests/warm_hits: gunicorn (`images-server serve`, two workers) with
`IMAGES_ACCEL_REDIRECT=/_cache/`, and NGINX (nginx/nginx.conf, rendered as tests/nginx does)
in front, its `/_cache/` location aliased to the app's result cache directory.

Images are uploaded to the app directly as alice; every test uploads its own (distinct sizes
make distinct hashes), so tests share the stack without sharing cache entries.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.images import quadrant_bytes
from tests.nginx.server import Nginx, run_nginx
from tests.origin import Origin
from tests.origin import serving as serving_origin
from tests.servers import free_port
from tests.serving.server import Served, serving

ALICE_KEY = "alice-key-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {ALICE_KEY}"}

_sizes = itertools.count(61)


@dataclass(frozen=True)
class Stack:
    app: Served  # gunicorn, reached directly
    url: str  # NGINX in front of it
    purge_url: str  # NGINX's internal purge endpoint
    root: Path
    photo_url: str  # a PNG on a loopback origin `/external` may fetch

    @property
    def cache_dir(self) -> Path:
        return self.root / "data" / "cache"

    def upload(self, public: bool = True, data: bytes | None = None) -> str:
        """An image uploaded to the app as alice (a fresh one unless `data`); its hash."""
        data = data or quadrant_bytes(next(_sizes), 40, "png")
        response = requests.post(
            f"{self.app.base}/upload",
            files={"file": ("q.png", data)},
            data={"public": "true" if public else "false"},
            headers=AUTH,
            timeout=30,
        )
        assert response.status_code == 201, response.text
        return str(response.json()["hash"])

    def entry(self, hash_: str, namespace: str = "originals") -> Path:
        """The one result-cache file of the image (one variant requested)."""
        [path] = (self.cache_dir / namespace / hash_[:2] / hash_).iterdir()
        return path


def accel_nginx(prefix: Path, upstream: str, cache_dir: Path) -> AbstractContextManager[Nginx]:
    """NGINX on nginx/nginx.conf with `/_cache/` aliased to `cache_dir`, until the block ends."""
    prefix.mkdir(parents=True, exist_ok=True)
    return run_nginx(prefix, upstream, access_log=False, cache_dir=cache_dir)


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("warm-hits")
    app_port = free_port()
    upstream = f"127.0.0.1:{app_port}"
    origin = Origin(routes={"/photo.png": (200, "image/png", quadrant_bytes(300, 200, "png"))})
    with (
        serving_origin(origin),
        accel_nginx(root / "nginx", upstream, root / "data" / "cache") as nginx,
    ):
        env = {
            "IMAGES_PORT": str(app_port),
            "IMAGES_WORKERS": "2",
            "IMAGES_API_KEYS": f"alice:{ALICE_KEY}",
            "IMAGES_ACCEL_REDIRECT": "/_cache/",
            "IMAGES_NGINX_PURGE_URL": nginx.purge_url,
            "IMAGES_TRUSTED_PROXIES": "1",
            "IMAGES_EAGER_PRESETS": "",
            "IMAGES_DERIVATIVES": "false",
            "IMAGES_EXTERNAL_ALLOW_HOSTS": f"127.0.0.1:{origin.port}",
            # these tests look at the workers themselves (strace, their sockets in /proc): none
            # may be replaced under them (tests/memory/test_recycling.py tests that)
            "IMAGES_RECYCLE_GROWTH_MB": "0",
        }
        with serving(root, env) as app:
            yield Stack(app, nginx.url, nginx.purge_url, root, origin.url("/photo.png"))
