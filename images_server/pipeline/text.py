"""`text/<text>[,options]`: words drawn on the image with the fonts that ship in the package.

The text comes first, up to the first comma, percent-decoded like the rest of the path; a text
that holds a comma, a slash or a percent sign is sent as `b64:` and its base64url (UTF-8,
padding optional). At most `MAX_CHARS` characters, no control characters. Options follow in
any order: a gravity (default `se`), a margin in pixels (default 0), `s<px>` the font size
(6..200, default 32), `c<rrggbb[aa]>` the colour (default white), `o<percent>` the opacity,
`bg<rrggbb[aa]>` a box behind the text (default none) and `w<px>` the width at which lines
wrap (default: one line). Markup is never interpreted: `<b>` is drawn as the four characters.
The text is laid like an `overlay` (pipeline/overlay.py): fitted inside the image when larger.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from dataclasses import dataclass
from typing import get_args

from images_server.pipeline.geometry import MAX_SIDE, Gravity
from images_server.pipeline.overlay import Overlay

MAX_CHARS = 200
DEFAULT_SIZE = 32
_GRAVITIES: tuple[str, ...] = get_args(Gravity)
_HEX = re.compile(r"[0-9a-f]{6}([0-9a-f]{2})?", re.ASCII)
_NUMBER = re.compile(r"\d{1,5}", re.ASCII)
_PREFIXED = re.compile(r"(bg|s|c|o|w)([0-9a-f]+)", re.ASCII)

Rgba = tuple[int, int, int, int]


@dataclass(frozen=True)
class Text:
    text: str
    gravity: Gravity = "se"
    margin: int = 0
    size: int = DEFAULT_SIZE  # pixels
    colour: Rgba = (255, 255, 255, 255)
    opacity: int = 100  # percent
    box: Rgba | None = None
    wrap: int | None = None  # pixels

    def segment(self) -> str:
        encoded = base64.urlsafe_b64encode(self.text.encode()).decode().rstrip("=")
        parts = [f"b64:{encoded}", self.gravity, str(self.margin), f"s{self.size}"]
        parts += [f"c{_hex(self.colour)}", f"o{self.opacity}"]
        parts += [f"bg{_hex(self.box)}"] if self.box is not None else []
        parts += [f"w{self.wrap}"] if self.wrap is not None else []
        return "text/" + ",".join(parts)

    def placed(self) -> Overlay:
        """Where the drawn text goes: an overlay of it, keyed by this op's segment."""
        return Overlay(self.segment(), self.gravity, self.margin, self.opacity)


def _hex(rgba: Rgba) -> str:
    return "".join(f"{c:02x}" for c in (rgba if rgba[3] != 255 else rgba[:3]))


def _decoded(first: str) -> str:
    if not first.startswith("b64:"):
        return first
    body = first[4:]
    try:
        padded = body + "=" * (-len(body) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError("b64: must be followed by base64url of UTF-8 text") from None


def _checked(text: str) -> str:
    if not text.strip():
        raise ValueError("the text is empty")
    if len(text) > MAX_CHARS:
        raise ValueError(f"the text is {len(text)} characters long (at most {MAX_CHARS})")
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in text):
        raise ValueError("the text holds a control character")
    return text


def _rgba(value: str, what: str) -> Rgba:
    if not _HEX.fullmatch(value):
        raise ValueError(f"{what} must be rrggbb or rrggbbaa (hex)")
    channels = [int(value[i : i + 2], 16) for i in range(0, len(value), 2)]
    return (channels[0], channels[1], channels[2], channels[3] if len(channels) == 4 else 255)


def _number(value: str, what: str, low: int, high: int) -> int:
    if not _NUMBER.fullmatch(value) or not low <= int(value) <= high:
        raise ValueError(f"{what} is {low}..{high}")
    return int(value)


def _option(option: str) -> tuple[str, object]:
    if option in _GRAVITIES:
        return "gravity", option
    if _NUMBER.fullmatch(option):
        return "margin", _number(option, "the margin", 0, MAX_SIDE)
    match = _PREFIXED.fullmatch(option)
    if match is None:
        raise ValueError(
            f"unknown text option '{option}' (a gravity, a margin in pixels, s<size>, "
            "c<colour>, o<opacity %>, bg<colour> or w<wrap width>)"
        )
    key, value = match[1], match[2]
    if key == "s":
        return "size", _number(value, "the size", 6, 200)
    if key == "o":
        return "opacity", _number(value, "the opacity", 1, 100)
    if key == "w":
        return "wrap", _number(value, "the wrap width", 1, MAX_SIDE)
    return ("colour" if key == "c" else "box"), _rgba(value, "a colour")


def parse_text(arg: str) -> Text:
    """`<text or b64:...>[,option...]`; ValueError saying what is wrong."""
    first, *options = arg.split(",")
    found: dict[str, object] = {}
    for option in options:
        key, value = _option(option)
        if key in found:
            raise ValueError(f"{key} is given twice")
        found[key] = value
    return Text(_checked(_decoded(first)), **found)  # type: ignore[arg-type]
