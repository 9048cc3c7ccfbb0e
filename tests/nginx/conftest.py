"""The real stack for tests/nginx: NGINX (nginx/nginx.conf, rendered) in front of gunicorn
(`images-server serve`), both on loopback free ports in one temp dir for the package.

The app is told NGINX's purge endpoint (`IMAGES_NGINX_PURGE_URL`) and trusts one proxy hop;
API keys are on, so writes need alice's key, as in production; client hints are on, and
`format/auto` may choose JPEG XL, first (so that a JPEG XL entry exists to be mis-shared).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.nginx.server import run_nginx
from tests.servers import free_port

CLI = str(Path(sys.executable).parent / "images-server")
ALICE_KEY = "alice-key-0123456789abcdef"


@dataclass(frozen=True)
class Stack:
    url: str  # NGINX, the public address
    app_url: str  # gunicorn, behind it
    purge_url: str  # NGINX's internal purge endpoint
    cache_dir: Path  # NGINX's proxy_cache_path

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {ALICE_KEY}"}


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:  # not listening, or still starting
            time.sleep(0.1)
    pytest.fail(f"images-server serve did not start:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("nginx-stack")
    (root / "nginx").mkdir()
    app_port = free_port()
    with run_nginx(root / "nginx", f"127.0.0.1:{app_port}") as nginx:
        env = os.environ | {
            "IMAGES_PORT": str(app_port),
            "IMAGES_DATA_DIR": str(root / "data"),
            "IMAGES_WORKERS": "2",
            "IMAGES_API_KEYS": f"alice:{ALICE_KEY}",
            "IMAGES_NGINX_PURGE_URL": nginx.purge_url,
            "IMAGES_TRUSTED_PROXIES": "1",
            "IMAGES_CLIENT_HINTS": "true",  # only URLs with hint ops change (test_client_hints)
            "IMAGES_PRESETS": '{"hero-auto": "resize/auto"}',
            "IMAGES_AUTO_FORMATS": "jxl,avif,webp",  # JPEG XL first: Safari is given it
        }
        log = root / "app.log"
        with log.open("wb") as sink:
            app = subprocess.Popen([CLI, "serve"], env=env, stdout=sink, stderr=subprocess.STDOUT)
            try:
                app_url = f"http://127.0.0.1:{app_port}"
                _wait_healthy(app_url, app, log)
                yield Stack(nginx.url, app_url, nginx.purge_url, root / "nginx" / "images")
            finally:
                app.terminate()
                app.wait(timeout=30)
