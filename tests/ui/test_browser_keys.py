"""The packs page on a server with API keys: the key typed into the page is sent as a Bearer
token, and the previews and the ZIP (which an `<img>` or a link cannot authorise) come through
`fetch` as blobs. Without the key, the page says in words that one is needed.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.ui.pages import NAME, PHOTO, WORK_TIMEOUT_MS, drop, refused

if TYPE_CHECKING:
    from playwright.sync_api import Page

KEY = "ui-test-key-0123456789"


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return {"IMAGES_API_KEYS": f"alice:{KEY}"}


def test_a_pack_with_an_api_key(
    page: tuple[Page, list[str]],
    server: str,
    start_worker: Callable[[], None],
    samples: Path,
    artifacts: Path,
    tmp_path: Path,
) -> None:
    tab, errors = page
    tab.goto("/")
    drop(tab, samples / PHOTO)
    alert = tab.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text().startswith("This server needs an API key")
    assert tab.locator("#auth").get_attribute("open") is not None  # opened to show the field

    tab.get_by_label("API key", exact=True).fill(KEY)
    assert tab.evaluate("sessionStorage.getItem('images-server-api-key')") == KEY
    drop(tab, samples / PHOTO)
    tab.locator("#configure").wait_for(state="visible")
    tab.get_by_label("Widths in pixels, comma-separated").fill("320")
    for fmt in ("avif", "jpeg"):
        tab.locator(f"#format-{fmt}").uncheck()
    start_worker()
    tab.get_by_role("button", name="Build the pack").click()
    tab.locator("#results").wait_for(state="visible", timeout=WORK_TIMEOUT_MS)

    assert tab.locator("#files .file-name").all_inner_texts() == [f"{NAME}-320.webp"]
    tab.wait_for_function(
        "[...document.querySelectorAll('#files img')]"
        ".every((img) => img.src.startsWith('blob:') && img.complete && img.naturalWidth > 0)"
    )
    tab.locator(".snippet pre").first.wait_for()
    tab.screenshot(path=artifacts / "08-results-with-api-key.png", full_page=True)
    with tab.expect_download() as download_info:
        tab.get_by_role("link", name="Download the ZIP").click()
    saved = tmp_path / "pack.zip"
    download_info.value.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        assert archive.testzip() is None
        assert f"{NAME}-320.webp" in archive.namelist()
    assert refused(errors) == [f"401 {server}/packs/analyze"]


def test_after_a_401_the_same_file_chosen_again_is_analysed(
    page: tuple[Page, list[str]], server: str, samples: Path
) -> None:
    tab, errors = page
    tab.goto("/")
    chooser = tab.locator("#file")
    chooser.set_input_files(samples / PHOTO)  # a path: Chromium fires `change` only on a change
    alert = tab.get_by_role("alert")
    alert.wait_for()
    message = alert.inner_text()
    assert message.startswith("This server needs an API key: ")
    assert "“API key” field below “Choose an image…”" in message  # where the field really is
    assert "above" not in message
    assert tab.evaluate("document.activeElement.id") == "api-key"  # the cursor is in it
    assert chooser.input_value() == ""  # handled: the same file again is a new choice

    tab.keyboard.type("not-the-key")
    chooser.set_input_files(samples / PHOTO)
    tab.get_by_text("This API key is not valid: ").wait_for()
    tab.get_by_label("API key", exact=True).fill(KEY)
    chooser.set_input_files(samples / PHOTO)  # the very same file, a third time
    tab.locator("#configure").wait_for(state="visible")
    assert "1200 \N{MULTIPLICATION SIGN} 900 px" in tab.locator("#analysis").inner_text()
    assert alert.is_hidden()
    assert refused(errors) == [f"401 {server}/packs/analyze"] * 2
