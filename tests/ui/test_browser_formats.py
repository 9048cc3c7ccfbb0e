"""The packs page with files browsers cannot show: the preview comes from the server, the
analysis names the format, and the pack is built like any other (tests/ui/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.ui.pages import WORK_TIMEOUT_MS, drop, pack_state, refused

if TYPE_CHECKING:
    from playwright.sync_api import Page

NATURAL_SIZE = "() => [document.getElementById('source-preview').naturalWidth, " \
    "document.getElementById('source-preview').naturalHeight]"  # fmt: skip
FILES = [
    ("tiff/tiff_tiled_ycbcr_jpeg_2x2_sampling.tif", "image/tiff", "TIFF, opaque", (480, 360)),
    ("heic/iphone8plus-irot270-3024x4032.heic", "image/heic", "HEIC, opaque", (3024, 4032)),
    ("svg/flag-guatemala-4x3.svg", "image/svg+xml", "SVG, with transparency", (640, 480)),
]


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return {"IMAGES_SVG_ENABLED": "true"}


@pytest.mark.parametrize(("name", "mime", "described", "size"), FILES, ids=[f[0] for f in FILES])
def test_a_file_browsers_cannot_show_becomes_a_pack(
    page: tuple[Page, list[str]],
    start_worker: Callable[[], None],
    samples: Path,
    name: str,
    mime: str,
    described: str,
    size: tuple[int, int],
) -> None:
    tab, errors = page
    tab.goto("/")
    assert "TIFF" in tab.locator("#file-help").inner_text()

    drop(tab, samples / name, mime)

    tab.locator("#configure").wait_for(state="visible")
    analysis = tab.locator("#analysis").inner_text()
    assert described in analysis
    assert f"{size[0]} \N{MULTIPLICATION SIGN} {size[1]} px" in analysis
    served = "png" if mime == "image/svg+xml" else "jpeg"
    assert tab.locator("#source-preview").get_attribute("src").startswith(f"data:image/{served}")  # type: ignore[union-attr]
    tab.wait_for_function("() => document.getElementById('source-preview').complete")
    width, height = tab.evaluate(NATURAL_SIZE)
    assert width > 0
    assert abs(round(width * size[1] / size[0]) - height) <= 1  # decoded, in proportion

    tab.get_by_label("Widths in pixels, comma-separated").fill("120")
    start_worker()
    tab.get_by_role("button", name="Build the pack").click()
    tab.locator("#results").wait_for(state="visible", timeout=WORK_TIMEOUT_MS)
    pack_id = tab.locator("#download").get_attribute("href").split("/")[1]  # type: ignore[union-attr]
    state = pack_state(tab, pack_id)
    assert state["status"] == "done"
    assert {entry["width"] for entry in state["manifest"]["files"]} == {120}
    assert refused(errors) == []
