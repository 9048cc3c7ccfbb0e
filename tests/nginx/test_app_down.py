"""NGINX in front of an app that is down or hung: the client gets the JSON `503` of the app's
own error shape, with `Retry-After`, never NGINX's HTML 502/504 page; and a variant NGINX has
cached is still served from its cache while the app is away.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.nginx.server import run_nginx
from tests.servers import free_port, images_server, never_answering


@pytest.fixture
def nothing_listening() -> str:
    return f"127.0.0.1:{free_port()}"


@pytest.fixture
def accepts_but_never_answers() -> Iterator[str]:
    """A hung app."""
    with never_answering() as address:
        yield address


def _assert_unavailable(response: requests.Response) -> None:
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Retry-After"] == "5"
    assert response.json()["code"] == "service_unavailable"


@pytest.mark.parametrize("path", ["/image/" + "a" * 64 + "/resize/100x", "/upload", "/"])
def test_a_dead_app_is_a_json_503(tmp_path: Path, nothing_listening: str, path: str) -> None:
    with run_nginx(tmp_path, nothing_listening, access_log=False) as nginx:
        started = time.monotonic()
        response = requests.get(f"{nginx.url}{path}", timeout=30)
    _assert_unavailable(response)
    assert time.monotonic() - started < 10


def test_a_hung_app_is_a_json_503_not_a_504(tmp_path: Path, accepts_but_never_answers: str) -> None:
    # The real wait is proxy_read_timeout (60 s, above the app's own deadlines); the test runs
    # the same config with 2 s so that it checks what the client gets, not the clock.
    with run_nginx(
        tmp_path, accepts_but_never_answers, access_log=False, read_timeout="2s"
    ) as nginx:
        response = requests.get(f"{nginx.url}/healthz", timeout=30)
    _assert_unavailable(response)


def test_cached_variants_outlive_the_app(tmp_path: Path, samples: Path) -> None:
    app_port = free_port()
    (tmp_path / "nginx").mkdir()
    with run_nginx(tmp_path / "nginx", f"127.0.0.1:{app_port}", access_log=False) as nginx:
        with images_server(tmp_path / "app" / "data", port=app_port) as app:
            with (samples / "photo-1mp-1200x900.jpg").open("rb") as file:
                digest = requests.post(f"{app}/upload", files={"file": file}, timeout=30).json()
            cached = f"{nginx.url}/image/{digest['hash']}/resize/120x"
            assert requests.get(cached, timeout=30).headers["X-Cache-Status"] == "MISS"
        # the app has stopped: what NGINX holds is still served, the rest is a JSON 503
        hit = requests.get(cached, timeout=30)
        assert (hit.status_code, hit.headers["X-Cache-Status"]) == (200, "HIT")
        _assert_unavailable(requests.get(cached.replace("120x", "130x"), timeout=30))
