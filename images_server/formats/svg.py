"""SVG: recognised by its text (`<svg`, or an XML prolog before it), sized by its root element.

SVG is XML, so its header is its prolog and root element, read here by the one hardened
parser every SVG goes through (`read`): defusedxml over expat, which never fetches or opens
anything; an entity declaration or a DOCTYPE with an internal subset is refused (415), as is
any DOCTYPE but the W3C's own SVG one, which is accepted *and ignored* (its DTD is never
read: matplotlib and older illustration programs write it). A file over `MAX_BYTES`, or with
more than `MAX_ELEMENTS` elements or nesting deeper than `MAX_DEPTH`, is refused (413) while
it is parsed, before a tree is built past the limit.

`matches` sees 32 bytes at most, too few to reach the root after an XML declaration, so it
claims any text starting (after a UTF-8 BOM and whitespace) with `<?xml`, `<!--`, `<!DOCTYPE
svg` or `<svg`; `parse` then refuses XML whose root is not `svg` as unsupported (415).

The displayed size is the root's `width` and `height` in CSS pixels (96 per inch: `px`,
unitless, `pt`, `pc`, `mm`, `cm`, `in`, `Q`, and `em`/`ex` at 16 and 8 px); a missing or
relative (`%`, `auto`) side comes from the `viewBox` (keeping its aspect ratio when the other
side is known), and with neither, browsers' default of 300x150. An SVG always has alpha.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from images_server.errors import PayloadTooLarge, UndecodableImage, UnsupportedFormat
from images_server.formats.header import SourceInfo

MAX_BYTES = 5 * 1024 * 1024  # real drawings and icon sets are far smaller
MAX_ELEMENTS = 50_000
MAX_DEPTH = 64
DEFAULT_SIZE = (300, 150)  # what browsers draw an SVG without a size or viewBox at

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"

_BOM = b"\xef\xbb\xbf"
_STARTS = (b"<?xml", b"<!--", b"<!doctype svg", b"<svg")
_W3C_PUBLIC_IDS = frozenset(
    {
        "-//W3C//DTD SVG 1.0//EN",
        "-//W3C//DTD SVG 1.1//EN",
        "-//W3C//DTD SVG 1.1 Basic//EN",
        "-//W3C//DTD SVG 1.1 Tiny//EN",
        "-//W3C//DTD SVG 20010904//EN",
    }
)
_UNITS = {"": 1.0, "px": 1.0, "pt": 4 / 3, "pc": 16.0, "mm": 96 / 25.4, "cm": 96 / 2.54,
          "in": 96.0, "q": 96 / 101.6, "em": 16.0, "ex": 8.0}  # fmt: skip
_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_LENGTH = re.compile(rf"\s*({_NUMBER})\s*([a-zA-Z%]*)\s*")
_SEPARATOR = re.compile(r"\s*,\s*|\s+")


def matches(head: bytes) -> bool:
    text = head.removeprefix(_BOM).lstrip(b" \t\r\n").lower()
    return text.startswith(_STARTS)


class _Root(Exception):  # not an error: how a read of the root alone stops
    def __init__(self, tag: str, attrib: dict[str, str]) -> None:
        super().__init__(tag)
        self.tag, self.attrib = tag, attrib


class _Builder(TreeBuilder):
    """A tree builder that counts elements and depth, and can stop at the root."""

    def __init__(self, root_only: bool) -> None:
        super().__init__()
        self._root_only = root_only
        self._elements = 0
        self._depth = 0

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        if self._root_only:
            raise _Root(tag, dict(attrs))
        self._elements += 1
        self._depth += 1
        if self._elements > MAX_ELEMENTS:
            raise PayloadTooLarge(f"the SVG has more than {MAX_ELEMENTS} elements")
        if self._depth > MAX_DEPTH:
            raise PayloadTooLarge(f"the SVG nests elements deeper than {MAX_DEPTH} levels")
        return super().start(tag, attrs)

    def end(self, tag: str) -> Element:
        self._depth -= 1
        return super().end(tag)


def _check_doctype(name: str, system_id: str | None, public_id: str | None, subset: int) -> None:
    if subset:
        raise UnsupportedFormat(
            "an SVG with an internal DTD subset (entity declarations) is refused: "
            "entities are never expanded"
        )
    if name != "svg" or ((public_id or system_id) and public_id not in _W3C_PUBLIC_IDS):
        raise UnsupportedFormat(
            "an SVG whose DOCTYPE is not the W3C's SVG one is refused: DTDs are never read"
        )


def _parse(data: bytes, root_only: bool) -> Element:
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(f"the SVG is larger than the limit of {MAX_BYTES} bytes")
    builder = _Builder(root_only)
    parser = DefusedXMLParser(
        target=builder, forbid_dtd=False, forbid_entities=True, forbid_external=True
    )
    parser.parser.StartDoctypeDeclHandler = _check_doctype
    try:
        parser.feed(data)
        root: Element = parser.close()
    except _Root as stop:
        root = Element(stop.tag, stop.attrib)
    except DefusedXmlException as exc:
        raise UnsupportedFormat(f"the SVG declares entities, which are refused ({exc})") from exc
    except ParseError as exc:
        raise UndecodableImage(f"the SVG is not well-formed XML ({exc})") from exc
    if root.tag not in (f"{{{SVG_NS}}}svg", "svg"):
        raise UnsupportedFormat("an XML document whose root element is not <svg>")
    return root


def read(data: bytes) -> Element:
    """The whole document, within the limits; raises as `parse` does."""
    return _parse(data, root_only=False)


@dataclass(frozen=True)
class ViewBox:
    x: float
    y: float
    width: float
    height: float


def view_box(value: str | None) -> ViewBox | None:
    """The `viewBox`, or None when it is missing or invalid (as a browser ignores it)."""
    parts = _SEPARATOR.split(value.strip()) if value else []
    if len(parts) != 4 or not all(re.fullmatch(_NUMBER, part) for part in parts):
        return None
    box = ViewBox(*(float(part) for part in parts))
    usable = box.width > 0 and box.height > 0 and all(map(math.isfinite, vars(box).values()))
    return box if usable else None


def _length(value: str | None) -> float | None:
    """An absolute length in CSS pixels; None for a missing, relative or invalid one."""
    match = _LENGTH.fullmatch(value) if value else None
    if match is None or match.group(2).lower() not in _UNITS:
        return None
    pixels = float(match.group(1)) * _UNITS[match.group(2).lower()]
    return pixels if math.isfinite(pixels) else None


def declared_size(root: Element) -> tuple[int, int]:
    """The size the root declares, in whole CSS pixels (see the module's docstring)."""
    width, height = _length(root.get("width")), _length(root.get("height"))
    if (width is not None and width <= 0) or (height is not None and height <= 0):
        raise UndecodableImage(f"the SVG declares an empty size ({width}x{height})")
    box = view_box(root.get("viewBox"))
    if box is not None:
        if width is None and height is None:
            width, height = box.width, box.height
        elif width is None:
            width = height * box.width / box.height  # type: ignore[operator]
        elif height is None:
            height = width * box.height / box.width
    if width is None or height is None:
        width = width if width is not None else DEFAULT_SIZE[0]
        height = height if height is not None else DEFAULT_SIZE[1]
    return _whole(width), _whole(height)


def _whole(pixels: float) -> int:
    return max(1, round(min(pixels, 2.0**31)))


def refuse_disabled(info: SourceInfo, enabled: bool) -> None:
    """415 for an SVG when the server does not accept SVG (`IMAGES_SVG_ENABLED`): called
    where uploads are admitted and where a stored original is rendered, so an SVG stored
    while SVG was on does not render once it is off."""
    if info.format == "svg" and not enabled:
        raise UnsupportedFormat("SVG is not accepted on this server (IMAGES_SVG_ENABLED is off)")


def parse(data: bytes) -> SourceInfo:
    width, height = declared_size(_parse(data, root_only=True))
    return SourceInfo("svg", width, height, has_alpha=True)
