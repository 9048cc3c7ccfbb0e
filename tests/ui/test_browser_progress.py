"""The packs page on a phone-sized screen, from settings to a finished pack: a decorative
image, a pack cancelled while queued, progress counted in files, and the results brought into
view when the pack is done (tests/ui/conftest.py: a real server and worker, Debian's Chromium).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tests.ui.pages import WORK_TIMEOUT_MS, drop, pack_state, refused

if TYPE_CHECKING:
    from playwright.sync_api import Page, ViewportSize

PHONE: ViewportSize = {"width": 390, "height": 844}
PHOTO = "photo-12mp-4000x3000.jpg"  # big enough that rendering takes a few polls
WIDTHS = "320, 640, 960, 1280, 1600, 1920"
FILES = 12  # 6 widths x (WebP, JPEG)

# Records every status text the page shows, as it sets it.
WATCH_STATUS = """() => {
  window.statusSeen = [];
  const status = document.getElementById("progress-status");
  new MutationObserver(() => window.statusSeen.push(status.textContent))
    .observe(status, { childList: true, characterData: true, subtree: true });
}"""
# Wholly on screen (not just a heading peeking in at the bottom edge).
IN_VIEW = """(id) => {
  const box = document.getElementById(id).getBoundingClientRect();
  return box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight;
}"""


def _pack_id(tab: Page) -> str:
    """The id of the pack the page is building, from the page's own request."""
    with tab.expect_response(lambda r: r.url.endswith("/packs") and r.status == 202) as created:
        tab.get_by_role("button", name="Build the pack").click()
    body: dict[str, str] = created.value.json()
    return body["id"]


def test_on_a_phone_cancel_then_build_with_progress_in_files(
    page: tuple[Page, list[str]],
    server: str,
    start_worker: Callable[[], None],
    samples: Path,
    artifacts: Path,
) -> None:
    tab, errors = page
    tab.set_viewport_size(PHONE)
    tab.goto("/")
    drop(tab, samples / PHOTO)
    tab.locator("#configure").wait_for(state="visible")
    tab.get_by_label("AVIF", exact=True).uncheck()
    tab.get_by_label("Widths in pixels, comma-separated").fill(WIDTHS)
    tab.get_by_label("Alternative text").fill("Wisteria")
    tab.get_by_label("Decorative image: no alt text").check()
    assert tab.locator("#alt").is_disabled()  # decoration has no alt text to write

    # Queued (no worker yet): cancel it; the form comes back for another try.
    first = _pack_id(tab)
    cancel = tab.get_by_role("button", name="Cancel the pack")
    cancel.wait_for()
    tab.get_by_text("Queued: waiting for a worker").wait_for()
    cancel.click()
    tab.get_by_text("Cancelled.").wait_for()
    assert pack_state(tab, first)["status"] == "cancelled"
    assert cancel.is_hidden()
    assert tab.get_by_role("button", name="Build the pack").is_enabled()
    assert tab.evaluate("document.activeElement.id") == "build"  # the cancel button is gone
    assert tab.locator("#alt").is_disabled()  # still decorative
    tab.screenshot(path=artifacts / "09-phone-cancelled.png")

    # Built: progress says how many files are done, then the results come into view.
    tab.evaluate(WATCH_STATUS)
    second = _pack_id(tab)
    start_worker()  # its queue holds the cancelled pack first: it must skip it
    tab.locator("#results").wait_for(state="visible", timeout=WORK_TIMEOUT_MS)
    seen: list[str] = tab.evaluate("window.statusSeen")
    counts = [
        int(match.group(1))
        for text in seen
        if (match := re.fullmatch(rf"Rendering the images: (\d+) of {FILES} files…", text))
    ]
    assert counts, seen
    assert counts == sorted(counts)
    assert 0 <= counts[0] < FILES
    assert tab.locator("#progress-status").inner_text() == f"Done: {FILES} of {FILES} files."
    state = pack_state(tab, second)
    assert (state["files_done"], state["files_total"]) == (FILES, FILES)
    assert pack_state(tab, first)["status"] == "cancelled"  # never built by the worker

    for part in ("results-title", "results-summary", "download"):
        assert tab.evaluate(IN_VIEW, part), f"#{part} of the finished pack is off-screen"
    assert tab.evaluate("document.activeElement.id") == "results-title"
    tab.screenshot(path=artifacts / "10-phone-done.png")

    snippets = tab.context.request.get(f"/packs/{second}/snippets").json()
    assert 'alt=""' in snippets["picture.html"]  # decorative, not "Describe this image"
    assert "Wisteria" not in snippets["picture.html"]
    assert refused(errors) == []
