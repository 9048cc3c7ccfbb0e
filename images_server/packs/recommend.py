"""Recommended pack settings from an `Analysis` (the user's choices go over them: `options`).

Formats: AVIF and WebP for every browser that has them, plus a fallback every browser decodes:
JPEG for an opaque source, PNG where there is transparency. Widths: a ladder of common layout
widths (and their 2x) below the source's width, never above it, closed by the source's own
width when it is well past the last step; 3840 (a 4K screen) is the widest. Quality: what keeps
a photo visually lossless at each format's efficiency (AVIF 50, WebP 75, JPEG 80), higher for
graphics, whose edges show artefacts first. Role, loading and `sizes` follow from the size and
shape: a wide, large image is a hero (`loading=eager`, `fetchpriority=high`, `sizes=100vw`); a
small one a thumbnail or, when square, an avatar; a 1.91:1 one a card; anything else content,
lazily loaded. Alt text is the user's: none given leaves a placeholder asking for one in the
snippets; `decorative` says the image is decoration, so the snippets carry `alt=""`.
"""

from __future__ import annotations

import re

from images_server.packs.analysis import Analysis
from images_server.packs.options import (
    MAX_WIDTH,
    NAME,
    PHOTO_QUALITY,
    SIZES,
    PackFormat,
    PackSettings,
    Role,
    role_loading,
)

LADDER = (160, 320, 640, 960, 1280, 1600, 1920, 2560, 3840)
_QUALITY: dict[str, dict[PackFormat, int]] = {
    "photo": PHOTO_QUALITY,
    "graphic": {"avif": 65, "webp": 85, "jpeg": 90, "png": 100},
}


def _role(analysis: Analysis) -> Role:
    width, ratio = analysis.width, analysis.aspect_ratio
    if width <= 400:
        return "avatar" if abs(ratio - 1) < 0.05 else "thumbnail"
    if abs(ratio - 1.91) / 1.91 <= 0.03:
        return "card"
    if width >= 1600 and ratio >= 1.3:
        return "hero"
    return "content"


def _widths(source_width: int) -> tuple[int, ...]:
    """The ladder below the source's width, closed by the source's own width (up to 4K) when
    it is more than 10 % past the last step."""
    widths = [width for width in LADDER if width < source_width]
    if source_width <= MAX_WIDTH and (not widths or source_width > widths[-1] * 1.1):
        widths.append(source_width)
    return tuple(widths)


def recommend(analysis: Analysis, name: str = "image") -> PackSettings:
    """The settings this server suggests for the analysed source."""
    fallback: PackFormat = "png" if analysis.has_alpha else "jpeg"
    formats: tuple[PackFormat, ...] = ("avif", "webp", fallback)
    role = _role(analysis)
    loading, priority = role_loading(role)
    quality: dict[str, int] = {fmt: _QUALITY[analysis.kind][fmt] for fmt in formats}
    return PackSettings(
        name=name,
        formats=formats,
        widths=_widths(analysis.width),
        quality=quality,
        role=role,
        loading=loading,
        fetchpriority=priority,
        sizes=SIZES[role],
        alt="",
    )


def safe_name(filename: str | None) -> str:
    """A file-name stem for the pack's files: lowercase letters, digits and dashes."""
    stem = (filename or "").rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()
    stem = re.sub(r"[^a-z0-9]+", "-", stem).strip("-")[:64]
    return stem if NAME.fullmatch(stem) else "image"
