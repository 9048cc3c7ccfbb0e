"""What the browser tests share: the test photo, driving the page as a user would (dropping a
file on it, reading a pack with the page's own cookies), and WCAG's contrast ratio."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Page

PHOTO = "photo-1mp-1200x900.jpg"
NAME = "photo-1mp-1200x900"  # the pack's file-name stem the server derives from PHOTO
WORK_TIMEOUT_MS = 60_000  # a generous bound on a small pack on a busy machine, not a measure

_DROP = """([data, name, type]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type }));
  return transfer;
}"""


def drop(tab: Page, path: Path, mime: str = "image/jpeg") -> None:
    """Drag `path` onto the page's drop zone, with the events a real drop fires."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    transfer = tab.evaluate_handle(_DROP, [data, path.name, mime])
    tab.dispatch_event("#dropzone", "dragover", {"dataTransfer": transfer})
    tab.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})


def pack_state(tab: Page, pack_id: str) -> dict[str, Any]:
    """`GET /packs/<id>` with the page's own session cookie."""
    response = tab.context.request.get(f"/packs/{pack_id}")
    assert response.ok
    body: dict[str, Any] = response.json()
    return body


def refused(errors: list[str]) -> list[str]:
    """The errors, less the browser's own "Failed to load resource" echo of each refusal."""
    return [error for error in errors if not error.startswith("Failed to load resource")]


def _luminance(colour: tuple[int, int, int]) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""
    linear = [c / 3294.6 if c <= 10.31475 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in colour]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: tuple[int, int, int], second: tuple[int, int, int]) -> float:
    """The WCAG 2 contrast ratio of two colours, 1 to 21."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)
