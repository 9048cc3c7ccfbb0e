"""The packs page in a real browser: Debian's Chromium, driven by Playwright, against
`images-server serve` and `images-server worker` (tests/ui/conftest.py).

One walk through drop → analysis → settings → progress → results → copy → download, with a
screenshot at each step, and a second through the errors a user meets, read from the page.
The worker starts only once the pack is queued, so the progress bar is seen at 0 % first and
at 100 % at the end without depending on how fast the job runs.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import requests

from tests.ui.pages import NAME, PHOTO, WORK_TIMEOUT_MS, contrast, drop, pack_state, refused

if TYPE_CHECKING:
    from playwright.sync_api import FilePayload, Page

# Records every value the progress bar shows, as the page sets it.
WATCH_PROGRESS = """() => {
  window.progressSeen = [];
  const bar = document.getElementById("progress");
  new MutationObserver(() => window.progressSeen.push(Number(bar.value)))
    .observe(bar, { attributes: true, attributeFilter: ["value"] });
}"""


# The vertical gap, in px, between the bottom of one element and the top of another.
NEXT_TO = """([above, below]) => document.getElementById(below).getBoundingClientRect().top -
  document.getElementById(above).getBoundingClientRect().bottom"""
OUTLINE = """(selector) => {
  const style = getComputedStyle(document.querySelector(selector));
  return style.outlineStyle === "none" ? "" : style.outlineColor;
}"""
BACKGROUND = "(selector) => getComputedStyle(document.querySelector(selector)).backgroundColor"


def rgb(css: str) -> tuple[int, int, int]:
    """`rgb(1, 2, 3)` as the browser computes a colour, opaque."""
    match = re.fullmatch(r"rgb\((\d+), (\d+), (\d+)\)", css)
    assert match, css
    return int(match[1]), int(match[2]), int(match[3])


def test_upload_configure_progress_download(
    page: tuple[Page, list[str]],
    server: str,
    start_worker: Callable[[], None],
    samples: Path,
    artifacts: Path,
    tmp_path: Path,
) -> None:
    tab, errors = page
    tab.goto("/")
    assert tab.get_by_role("heading", name="Responsive image packs").is_visible()
    assert tab.locator("#configure").is_hidden()
    tab.screenshot(path=artifacts / "01-empty.png", full_page=True)

    # Drop the photo: the analysis and the recommended settings fill the form.
    drop(tab, samples / PHOTO)
    tab.locator("#configure").wait_for(state="visible")
    analysis_text = tab.locator("#analysis").inner_text()
    assert "1200 \N{MULTIPLICATION SIGN} 900 px" in analysis_text
    assert "JPEG, opaque" in analysis_text
    assert "4:3" in analysis_text
    with (samples / PHOTO).open("rb") as photo:
        reply = requests.post(f"{server}/packs/analyze", files={"file": photo}, timeout=30)
    recommended = reply.json()["recommended"]
    assert tab.locator("#name").input_value() == recommended["name"] == NAME
    assert tab.locator("#widths").input_value() == ", ".join(map(str, recommended["widths"]))
    for fmt in ("avif", "webp", "jpeg", "png"):
        assert tab.locator(f"#format-{fmt}").is_checked() == (fmt in recommended["formats"])
    assert tab.locator("#quality-webp").input_value() == str(recommended["quality"]["webp"])
    assert tab.locator("#role").input_value() == recommended["role"]
    assert tab.locator("#sizes").input_value() == recommended["sizes"]

    # Configure: two formats, two widths, a new quality and alt text; by label, as a user.
    tab.get_by_label("AVIF", exact=True).uncheck()
    tab.get_by_label("Widths in pixels, comma-separated").fill("320, 640")
    tab.get_by_label("WebP quality", exact=True).fill("70")
    tab.get_by_label("Alternative text").fill("A test photo")
    tab.get_by_label("Role").select_option("hero")  # implies eager, high priority, 100vw
    assert tab.locator("#loading").input_value() == "eager"
    assert tab.locator("#fetchpriority").input_value() == "high"
    assert tab.locator("#sizes").input_value() == "100vw"
    tab.get_by_label("Fetch priority").select_option("auto")  # and each stays editable
    assert tab.locator("#quality-avif").is_disabled()
    tab.screenshot(path=artifacts / "02-configure.png", full_page=True)

    # Build: the pack is queued (no worker yet), the bar shows 0 %.
    tab.evaluate(WATCH_PROGRESS)
    tab.get_by_role("button", name="Build the pack").click()
    tab.locator("#progress-section").wait_for(state="visible")
    tab.get_by_text("Queued: waiting for a worker").wait_for()
    assert tab.locator("#progress").get_attribute("value") == "0"
    tab.screenshot(path=artifacts / "03-progress-queued.png", full_page=True)

    start_worker()
    tab.locator("#results").wait_for(state="visible", timeout=WORK_TIMEOUT_MS)
    assert tab.locator("#progress").get_attribute("value") == "100"
    assert tab.locator("#progress-percent").inner_text() == "100 %"
    seen: list[float] = tab.evaluate("window.progressSeen")
    assert seen[-1] == 100
    assert seen == sorted(seen)  # never backwards

    # Results: every file of the manifest is in the grid, with its preview decoded.
    pack_id = tab.locator("#download").get_attribute("href").split("/")[1]  # type: ignore[union-attr]
    state = pack_state(tab, pack_id)
    assert state["status"] == "done"
    assert state["settings"]["quality"] == {"webp": 70, "jpeg": 80}
    names = [entry["file"] for entry in state["manifest"]["files"]]
    assert sorted(names) == sorted(
        f"{NAME}-{width}.{ext}" for width in (320, 640) for ext in ("webp", "jpg")
    )
    assert tab.locator("#files .file-name").all_inner_texts() == names
    for card in tab.locator("#files .card").all():
        card.scroll_into_view_if_needed()
        assert "smaller than the source" in card.inner_text()
    tab.wait_for_function(
        "[...document.querySelectorAll('#files img')]"
        ".every((img) => img.complete && img.naturalWidth > 0)"
    )
    widths = tab.eval_on_selector_all("#files img", "imgs => imgs.map((i) => i.naturalWidth)")
    assert widths == [entry["width"] for entry in state["manifest"]["files"]]

    # Copy: the button puts the snippet on the clipboard, as the page also shows it.
    snippets = tab.context.request.get(f"/packs/{pack_id}/snippets").json()
    tab.locator(".snippet pre").first.wait_for()
    first = tab.locator(".snippet").first
    assert first.locator("h4").inner_text() == "picture.html"
    assert first.locator("pre").inner_text().strip() == snippets["picture.html"].strip()
    first.get_by_role("button", name="Copy").click()
    first.get_by_text("Copied.").wait_for()
    assert tab.evaluate("navigator.clipboard.readText()") == snippets["picture.html"]
    assert 'alt="A test photo"' in snippets["picture.html"]
    assert 'sizes="100vw"' in snippets["picture.html"]
    assert 'loading="eager"' in snippets["picture.html"]
    assert 'fetchpriority="high"' not in snippets["picture.html"]
    tab.screenshot(path=artifacts / "04-results.png", full_page=True)

    # Download: a valid ZIP holding every file, the manifest and the snippets.
    with tab.expect_download() as download_info:
        tab.get_by_role("link", name="Download the ZIP").click()
    download = download_info.value
    assert download.suggested_filename == f"{NAME}-pack.zip"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        assert archive.testzip() is None
        entries = set(archive.namelist())
    assert set(names) | {"manifest.json"} | {f"snippets/{name}" for name in snippets} == entries

    # A phone-sized screen: one column, nothing wider than the screen.
    tab.set_viewport_size({"width": 390, "height": 844})
    overflow = tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    tab.screenshot(path=artifacts / "05-results-phone.png", full_page=True)
    assert errors == []


def test_errors_are_shown_in_words(
    page: tuple[Page, list[str]], server: str, samples: Path, artifacts: Path
) -> None:
    tab, errors = page
    tab.goto("/")
    # The keyboard reaches the file chooser: skip link first, then the (visually hidden) input.
    tab.keyboard.press("Tab")
    tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.id") == "file"
    # Its focus ring (drawn on the label, just outside it) stands out from what is around it.
    ring = rgb(tab.evaluate(OUTLINE, "label[for=file]"))
    for around in ("html", "#dropzone"):  # the page, and the drop zone the label sits in
        backdrop = rgb(tab.evaluate(BACKGROUND, around))
        assert contrast(ring, backdrop) >= 3, (ring, around, backdrop)  # WCAG 2.2, 1.4.11

    broken: FilePayload = {"name": "broken.png", "mimeType": "image/png", "buffer": b"not an image"}
    tab.locator("#file").set_input_files(files=[broken])
    alert = tab.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text().startswith("Not a supported image: ")
    assert tab.locator("#configure").is_hidden()
    tab.screenshot(path=artifacts / "06-error-not-an-image.png", full_page=True)

    tab.locator("#file").set_input_files(samples / PHOTO)
    tab.locator("#configure").wait_for(state="visible")
    assert alert.is_hidden()  # a new choice clears the old error
    tab.get_by_label("Widths in pixels, comma-separated").fill("320, wide")
    tab.get_by_role("button", name="Build the pack").click()
    beside = tab.locator("#widths-error")  # the server's 400, under the field it names
    beside.wait_for()
    assert beside.inner_text() == "'wide' is not a whole number of pixels"
    widths = tab.locator("#widths")
    assert tab.evaluate("document.activeElement.id") == "widths"  # the field named, focused
    assert widths.get_attribute("aria-invalid") == "true"
    assert widths.get_attribute("aria-describedby") == "widths-error widths-help"
    assert tab.evaluate(NEXT_TO, ["widths", "widths-error"]) < 60  # px: right under it
    assert tab.locator("#form-error").is_hidden()  # not far off by the Build button
    assert tab.locator("#progress-section").is_hidden()
    tab.screenshot(path=artifacts / "07-error-widths.png", full_page=True)

    widths.fill("")  # the page's own check: the same place
    tab.get_by_role("button", name="Build the pack").click()
    assert beside.inner_text() == "Give at least one width in pixels."
    widths.fill("320")
    for fmt in ("avif", "webp", "jpeg"):
        tab.locator(f"#format-{fmt}").uncheck()
    tab.get_by_role("button", name="Build the pack").click()
    tab.get_by_text("Choose at least one format.").wait_for()
    assert tab.evaluate("document.activeElement.id") == "format-avif"
    assert beside.is_hidden()  # a new try clears the old marks
    assert widths.get_attribute("aria-invalid") is None
    assert widths.get_attribute("aria-describedby") == "widths-help"
    tab.screenshot(path=artifacts / "07-error-settings.png", full_page=True)
    # The browser logs the two refused requests (415, 400) as errors; nothing else failed.
    assert refused(errors) == [f"415 {server}/packs/analyze", f"400 {server}/packs"]
