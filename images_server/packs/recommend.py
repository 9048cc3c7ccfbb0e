"""Recommended pack settings from an `Analysis`, and the user's overrides checked against them.

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
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal, cast

from images_server.errors import BadRequest
from images_server.packs.analysis import Analysis

PackFormat = Literal["avif", "webp", "jpeg", "png"]
Role = Literal["hero", "content", "card", "thumbnail", "avatar"]
Loading = Literal["lazy", "eager"]
FetchPriority = Literal["high", "low", "auto"]

LADDER = (160, 320, 640, 960, 1280, 1600, 1920, 2560, 3840)
MAX_WIDTH = 3840  # wider than a 4K screen helps nobody
MAX_WIDTHS = 16
MIN_WIDTH = 16
FORMATS: tuple[PackFormat, ...] = ("avif", "webp", "jpeg", "png")
ROLES: tuple[Role, ...] = ("hero", "content", "card", "thumbnail", "avatar")
_QUALITY = {
    "photo": {"avif": 50, "webp": 75, "jpeg": 80, "png": 100},
    "graphic": {"avif": 65, "webp": 85, "jpeg": 90, "png": 100},
}
_SIZES: dict[Role, str] = {
    "hero": "100vw",
    "content": "(max-width: 800px) 100vw, 800px",
    "card": "(max-width: 600px) 100vw, 600px",
    "thumbnail": "200px",
    "avatar": "96px",
}
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


@dataclass(frozen=True)
class PackSettings:
    name: str
    formats: tuple[PackFormat, ...]
    widths: tuple[int, ...]
    quality: dict[str, int]
    role: Role
    loading: Loading
    fetchpriority: FetchPriority
    sizes: str
    alt: str
    decorative: bool = False  # an explicit empty alt: the snippets say `alt=""`

    def to_json(self) -> dict[str, object]:
        return asdict(self)


OPTIONS = tuple(field.name for field in fields(PackSettings))
"""What a user may override: every setting."""


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


def _loading(role: Role) -> tuple[Loading, FetchPriority]:
    return ("eager", "high") if role == "hero" else ("lazy", "auto")


def recommend(analysis: Analysis, name: str = "image") -> PackSettings:
    """The settings this server suggests for the analysed source."""
    fallback: PackFormat = "png" if analysis.has_alpha else "jpeg"
    formats: tuple[PackFormat, ...] = ("avif", "webp", fallback)
    role = _role(analysis)
    loading, priority = _loading(role)
    quality: dict[str, int] = {fmt: _QUALITY[analysis.kind][fmt] for fmt in formats}
    return PackSettings(
        name=name,
        formats=formats,
        widths=_widths(analysis.width),
        quality=quality,
        role=role,
        loading=loading,
        fetchpriority=priority,
        sizes=_SIZES[role],
        alt="",
    )


def safe_name(filename: str | None) -> str:
    """A file-name stem for the pack's files: lowercase letters, digits and dashes."""
    stem = (filename or "").rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()
    stem = re.sub(r"[^a-z0-9]+", "-", stem).strip("-")[:64]
    return stem if _NAME.fullmatch(stem) else "image"


def _field(name: str, message: str) -> BadRequest:
    return BadRequest(f"'{name}': {message}")


def _formats(value: Any) -> tuple[PackFormat, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise _field("formats", f"a non-empty list of {', '.join(FORMATS)}")
    chosen: list[PackFormat] = []
    for item in items:
        text = str(item).strip().lower()
        text = "jpeg" if text == "jpg" else text
        if text not in FORMATS:
            raise _field("formats", f"{item!r} is not one of {', '.join(FORMATS)}")
        if text not in chosen:
            chosen.append(text)
    return tuple(chosen)


def _widths_override(value: Any, source_width: int) -> tuple[int, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items or len(items) > MAX_WIDTHS:
        raise _field("widths", f"a list of 1 to {MAX_WIDTHS} widths in pixels")
    widths: set[int] = set()
    for item in items:
        try:
            width = int(str(item).strip())
        except ValueError:
            raise _field("widths", f"{item!r} is not a whole number of pixels") from None
        if width < MIN_WIDTH:
            raise _field("widths", f"{width} is below the minimum of {MIN_WIDTH}")
        widths.add(min(width, source_width))  # never upscaled
    return tuple(sorted(widths))


def _quality(value: Any, formats: tuple[PackFormat, ...], base: dict[str, int]) -> dict[str, int]:
    if not isinstance(value, dict):
        raise _field("quality", 'an object of format to quality, e.g. {"avif": 50}')
    merged: dict[str, int] = {fmt: base.get(fmt, _QUALITY["photo"][fmt]) for fmt in formats}
    for fmt, quality in value.items():
        if fmt not in FORMATS:
            raise _field("quality", f"{fmt!r} is not one of {', '.join(FORMATS)}")
        if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
            raise _field("quality", f"{fmt} quality must be a whole number from 1 to 100")
        if fmt in merged:
            merged[fmt] = quality
    return merged


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise _field(name, f"{value!r} is not one of {', '.join(allowed)}")
    return str(value)


_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def _flag(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, str) else None
    if text not in _TRUE + _FALSE:
        raise _field(name, "true or false")
    return text in _TRUE


def _text(name: str, value: Any, longest: int) -> str:
    if not isinstance(value, str) or len(value) > longest or any(ord(c) < 32 for c in value):
        raise _field(name, f"text of at most {longest} characters, without control characters")
    return value


def apply_overrides(
    recommended: PackSettings, overrides: dict[str, Any], source_width: int
) -> PackSettings:
    """The settings with the user's choices applied; `BadRequest` naming the first bad field."""
    unknown = sorted(set(overrides) - set(OPTIONS))
    if unknown:
        raise _field(unknown[0], f"unknown option (known: {', '.join(sorted(OPTIONS))})")
    settings = recommended
    if "role" in overrides:
        role = cast(Role, _choice("role", overrides["role"], ROLES))
        loading, priority = _loading(role)
        settings = replace(
            settings, role=role, loading=loading, fetchpriority=priority, sizes=_SIZES[role]
        )
    if "formats" in overrides:
        settings = replace(settings, formats=_formats(overrides["formats"]))
        settings = replace(settings, quality=_quality({}, settings.formats, recommended.quality))
    if "widths" in overrides:
        settings = replace(settings, widths=_widths_override(overrides["widths"], source_width))
    if "quality" in overrides:
        settings = replace(
            settings, quality=_quality(overrides["quality"], settings.formats, settings.quality)
        )
    if "loading" in overrides:
        loading_choice = _choice("loading", overrides["loading"], ("lazy", "eager"))
        settings = replace(settings, loading=cast(Loading, loading_choice))
    if "fetchpriority" in overrides:
        value = _choice("fetchpriority", overrides["fetchpriority"], ("high", "low", "auto"))
        settings = replace(settings, fetchpriority=cast(FetchPriority, value))
    if "sizes" in overrides:
        settings = replace(settings, sizes=_text("sizes", overrides["sizes"], 500))
    if "alt" in overrides:
        settings = replace(settings, alt=_text("alt", overrides["alt"], 500))
    if "decorative" in overrides:
        settings = replace(settings, decorative=_flag("decorative", overrides["decorative"]))
    if settings.decorative and settings.alt:
        raise _field("decorative", "a decorative image has no alt text: leave 'alt' empty")
    if "name" in overrides:
        name = _text("name", overrides["name"], 64)
        if not _NAME.fullmatch(name):
            raise _field(
                "name", "lowercase letters, digits and dashes, starting with a letter or digit"
            )
        settings = replace(settings, name=name)
    return settings


BASELINE = PackSettings("image", ("jpeg",), (MIN_WIDTH,), {}, "content", "lazy", "auto", "", "")
"""Settings to check options against before any analysis: their errors do not depend on it."""


def check_options(options: dict[str, Any], source_width: int) -> None:
    """`BadRequest` naming the first bad option, before the source is analysed."""
    apply_overrides(BASELINE, options, source_width)
