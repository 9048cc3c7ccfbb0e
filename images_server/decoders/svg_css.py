"""The CSS an SVG may keep: presentation properties with plain values, and same-document
`url(#id)` references; nothing that loads, runs or hides anything.

A declaration is kept only when its property is in `PROPERTIES` and its value is made of
colours, numbers, lengths, keywords, quoted font names and the functions `rgb()`, `rgba()`,
`hsl()`, `hsla()` and `url(#id)`. Anything else is dropped: `url()` to any other place,
`image-set()`, `var()`, `expression()`, `javascript:`; a backslash anywhere (a CSS escape
such as `\\75 rl(` spells `url(` past a naive filter), and so a value with one is dropped
whole. A style sheet (`<style>`) keeps only rules whose selectors are plain element, class,
id, universal, descendant and child selectors; an at-rule (`@import`, `@font-face`, `@media`)
or a backslash drops the whole sheet, since what follows one cannot be trusted to parse as
the renderer would parse it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

PROPERTIES = frozenset(
    {
        "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity",
        "stroke-linecap", "stroke-linejoin", "stroke-miterlimit", "stroke-dasharray",
        "stroke-dashoffset", "opacity", "color", "display", "visibility", "clip-path",
        "clip-rule", "mask", "stop-color", "stop-opacity", "font-family", "font-size",
        "font-weight", "font-style", "font-variant", "font-stretch", "text-anchor",
        "dominant-baseline", "alignment-baseline", "baseline-shift", "letter-spacing",
        "word-spacing", "text-decoration", "writing-mode", "direction", "paint-order",
        "vector-effect", "shape-rendering", "text-rendering", "color-interpolation",
        "mix-blend-mode", "isolation", "overflow",
    }
)  # fmt: skip
"""Presentation properties, as `style` declarations and as attributes alike."""

MAX_SHEET = 256 * 1024  # characters of one <style>; real sheets are a few KB

_LOCAL_URL = re.compile(r"""url\(\s*(["']?)#([A-Za-z_][\w.\-]*)\1\s*\)""", re.IGNORECASE)
_COLOUR_FUNCTION = re.compile(r"(?:rgba?|hsla?)\([\d\s.,%+\-]*\)", re.IGNORECASE)
_PLAIN = re.compile(r"[\w\s.,#%+\-]*")
_QUOTED = re.compile(r"""(["'])[\w\s.,\-]*\1""")  # font names
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_RULE = re.compile(r"([^{}]*)\{([^{}]*)\}")
_SELECTOR = re.compile(r"[\w\s.#,>*\-]+")

LocalRef = Callable[[str], bool]
"""Whether an `#id` names an element a reference may point to."""


def clean_value(value: str, local: LocalRef) -> str | None:
    """`value` if it is plain and its `url(#id)`s all name allowed elements, else None."""
    if "\\" in value or len(value) > 4096:
        return None
    if not all(local(match.group(2)) for match in _LOCAL_URL.finditer(value)):
        return None
    rest = _LOCAL_URL.sub(" ", value)
    rest = _COLOUR_FUNCTION.sub(" ", rest)
    rest = _QUOTED.sub(" ", rest)
    return value.strip() if _PLAIN.fullmatch(rest) else None


def clean_declarations(text: str, local: LocalRef) -> str:
    """The kept declarations of a `style` attribute or a rule's body, `;`-separated."""
    kept = []
    for declaration in _COMMENT.sub(" ", text).split(";"):
        name, colon, value = declaration.partition(":")
        name = name.strip().lower()
        if not colon or name not in PROPERTIES:
            continue
        value = value.strip().removesuffix("!important").strip()
        cleaned = clean_value(value, local)
        if cleaned:
            kept.append(f"{name}:{cleaned}")
    return ";".join(kept)


def clean_sheet(text: str, local: LocalRef) -> str:
    """The kept rules of a `<style>` sheet (empty when the sheet is refused whole)."""
    if len(text) > MAX_SHEET or "\\" in text or "<" in text:
        return ""
    text = _COMMENT.sub(" ", text)
    if "@" in text or "/*" in text:
        return ""
    rules = []
    for match in _RULE.finditer(text):
        selector = " ".join(match.group(1).split())
        body = clean_declarations(match.group(2), local)
        if body and _SELECTOR.fullmatch(selector):
            rules.append(f"{selector}{{{body}}}")
    return "\n".join(rules)
