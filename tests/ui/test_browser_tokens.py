"""Upload tokens in Chromium: a token typed into the packs page's key field builds one pack
(the key itself never reaches the browser), and a page on another origin listed in
`IMAGES_CORS_ORIGINS` uploads straight to `POST /upload` with one, through a real preflight.
"""

from __future__ import annotations

import base64
import threading
import zipfile
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from tests.servers import free_port
from tests.ui.pages import NAME, PHOTO, WORK_TIMEOUT_MS, drop, refused

if TYPE_CHECKING:
    from playwright.sync_api import Page

KEY = "ui-token-key-0123456789"
PAGE_PORT = free_port()
PAGE_ORIGIN = f"http://127.0.0.1:{PAGE_PORT}"


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return {"IMAGES_API_KEYS": f"alice:{KEY}", "IMAGES_CORS_ORIGINS": PAGE_ORIGIN}


def mint(server: str, **body: bool | int) -> str:
    """What a site's back end does: ask for a token with its API key."""
    headers = {"Authorization": f"Bearer {KEY}"}
    response = requests.post(f"{server}/upload-tokens", json=body, headers=headers, timeout=30)
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def upload_with(server: str, token: str, data: bytes) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "image/jpeg"}
    return requests.post(f"{server}/upload", data=data, headers=headers, timeout=30)


def test_a_pack_with_an_upload_token(
    page: tuple[Page, list[str]],
    server: str,
    start_worker: Callable[[], None],
    samples: Path,
    artifacts: Path,
    tmp_path: Path,
) -> None:
    tab, errors = page
    token = mint(server)
    tab.goto("/")
    tab.locator("#auth summary").click()
    tab.get_by_label("API key", exact=True).fill(token)
    drop(tab, samples / PHOTO)
    tab.locator("#configure").wait_for(state="visible")  # the analysis did not spend it
    tab.get_by_label("Widths in pixels, comma-separated").fill("320")
    for fmt in ("avif", "jpeg"):
        tab.locator(f"#format-{fmt}").uncheck()
    start_worker()
    tab.get_by_role("button", name="Build the pack").click()
    tab.locator("#progress-section").wait_for(state="visible")
    assert tab.locator("#cancel").is_hidden()  # cancelling needs an API key
    tab.locator("#results").wait_for(state="visible", timeout=WORK_TIMEOUT_MS)
    assert tab.locator("#files .file-name").all_inner_texts() == [f"{NAME}-320.webp"]
    tab.wait_for_function(  # by URL, with the session cookie: the spent token is not sent
        "() => [...document.querySelectorAll('#files img')]"
        ".every((img) => img.src.includes('/files/') && img.complete && img.naturalWidth > 0)"
    )
    tab.screenshot(path=artifacts / "09-results-with-upload-token.png", full_page=True)
    with tab.expect_download() as download_info:
        tab.get_by_role("link", name="Download the ZIP").click()
    saved = tmp_path / "pack.zip"
    download_info.value.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        assert f"{NAME}-320.webp" in archive.namelist()
    assert tab.evaluate("sessionStorage.getItem('images-server-api-key')") is None  # forgotten
    assert tab.get_by_label("API key", exact=True).input_value() == ""
    assert refused(errors) == []
    spent = upload_with(server, token, (samples / PHOTO).read_bytes())
    assert spent.status_code == 401
    assert spent.json()["code"] == "upload_token_used"


def test_a_spent_token_in_the_page_is_explained(
    page: tuple[Page, list[str]], server: str, samples: Path
) -> None:
    tab, errors = page
    token = mint(server)
    assert upload_with(server, token, (samples / PHOTO).read_bytes()).status_code == 201
    tab.goto("/")
    tab.locator("#auth summary").click()
    tab.get_by_label("API key", exact=True).fill(token)
    drop(tab, samples / PHOTO)
    alert = tab.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text().startswith("This upload token cannot be used (")
    assert "already used" in alert.inner_text()
    assert refused(errors) == [f"401 {server}/packs/analyze"]


class _Page(BaseHTTPRequestHandler):
    """Another origin's page: an empty document the test's script runs in."""

    def do_GET(self) -> None:
        body = b"<!DOCTYPE html><title>another site</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def other_site() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", PAGE_PORT), _Page)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield PAGE_ORIGIN
    httpd.shutdown()
    httpd.server_close()


_UPLOAD = """async ([url, token, data]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const response = await fetch(url, {
    method: "POST",
    headers: { Authorization: "Bearer " + token, "Content-Type": "image/png" },
    body: bytes,
  });
  return [response.status, await response.json()];
}"""


def test_a_page_on_a_listed_origin_uploads_directly(
    page: tuple[Page, list[str]], server: str, other_site: str, samples: Path
) -> None:
    tab, errors = page
    tab.goto(other_site)
    own = samples / "dice-alpha-300x225.png"  # not uploaded (publicly) by the other tests
    data = base64.b64encode(own.read_bytes()).decode("ascii")
    token = mint(server, public=False)
    status, first = tab.evaluate(_UPLOAD, [f"{server}/upload", token, data])
    assert status == 201, first
    assert first["public"] is False
    status, again = tab.evaluate(_UPLOAD, [f"{server}/upload", token, data])
    assert (status, again["code"]) == (401, "upload_token_used")  # readable across origins
    image = f"{server}/image/{first['hash']}"
    assert requests.get(image, timeout=30).status_code == 403  # private, as the token said
    owner = requests.get(image, headers={"Authorization": f"Bearer {KEY}"}, timeout=30)
    assert owner.status_code == 200  # alice's: the token's user owns it
    assert refused(errors) == [f"401 {server}/upload"]
