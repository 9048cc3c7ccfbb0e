"""Rebuild an SVG from an allow-list, so that what librsvg reads can fetch, open or run nothing.

The upload is parsed by `formats.svg.read` (no entities, no DTD, bounded elements and depth)
and a NEW document is written from what is allowed, never the upload's bytes with parts cut
out: a trick that the renderer's parser reads differently from ours (CDATA, namespace
prefixes, escapes, upper-case names) cannot survive, since only what our parser understood
as an allowed name with a plain value is written back.

Kept: the static drawing subset of SVG 1.1 (`ELEMENTS`: shapes, paths, text, groups,
`defs`/`symbol`/`use`, gradients, patterns, clip paths and masks), presentation attributes
and `style` through the CSS allow-list (`svg_css`). `<a>` and `<switch>` become plain
groups. References: `href` (written as `xlink:href`) only as a same-document `#id` naming a
kept element (`use`), gradient (gradients) or pattern (patterns), and `url(#id)` only naming
a kept gradient, pattern, clip path or mask (gradients only, from a `<style>` sheet).

Dropped with everything inside them: `script`, `foreignObject`, `image`, `feImage` and every
filter, animation (`animate`, `set`, ...), `a` links' targets, fonts, `textPath`, `tref`,
`marker`, elements of other namespaces (XInclude, Inkscape, HTML), comments and processing
instructions (`<?xml-stylesheet?>`). Dropped attributes: event handlers (`on*`), `xml:base`,
any other `href`, and every attribute not listed, in any case or namespace.

`use` and `url(#id)` make the renderer draw an element again wherever it is referenced; a
document that would draw more than `MAX_DRAWN` elements so (the nested-`use` bomb), or whose
references form a loop, is refused (413, 422).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from xml.etree.ElementTree import Element, SubElement, tostring

from images_server.decoders.svg_css import PROPERTIES, clean_declarations, clean_sheet, clean_value
from images_server.errors import PayloadTooLarge, UndecodableImage
from images_server.formats import svg
from images_server.formats.svg import SVG_NS, XLINK_NS, XML_NS

MAX_DRAWN = 100_000  # elements drawn, counting each `use` and url(#id) as its target's
_MAX_NESTING = 256  # elements and references followed inside one another

_GEOMETRY = frozenset({"x", "y", "width", "height"})
_VIEW = frozenset({"viewBox", "preserveAspectRatio"})
_TEXT = frozenset({"x", "y", "dx", "dy", "rotate", "textLength", "lengthAdjust"})
_GRADIENT = frozenset({"gradientUnits", "gradientTransform", "spreadMethod", "href"})
_PATTERN = frozenset({"patternUnits", "patternContentUnits", "patternTransform", "href"})
ELEMENTS: dict[str, frozenset[str]] = {
    "svg": _GEOMETRY | _VIEW,
    "g": frozenset(),
    "defs": frozenset(),
    "symbol": _GEOMETRY | _VIEW | {"refX", "refY"},
    "use": _GEOMETRY | {"href"},
    "path": frozenset({"d", "pathLength"}),
    "rect": _GEOMETRY | {"rx", "ry"},
    "circle": frozenset({"cx", "cy", "r"}),
    "ellipse": frozenset({"cx", "cy", "rx", "ry"}),
    "line": frozenset({"x1", "y1", "x2", "y2"}),
    "polyline": frozenset({"points"}),
    "polygon": frozenset({"points"}),
    "text": _TEXT,
    "tspan": _TEXT,
    "linearGradient": _GRADIENT | {"x1", "y1", "x2", "y2"},
    "radialGradient": _GRADIENT | {"cx", "cy", "r", "fx", "fy", "fr"},
    "stop": frozenset({"offset"}),
    "clipPath": frozenset({"clipPathUnits"}),
    "mask": _GEOMETRY | {"maskUnits", "maskContentUnits"},
    "pattern": _GEOMETRY | _VIEW | _PATTERN,
    "style": frozenset(),
}
"""Each allowed element and its own attributes (besides `_COMMON` and `PROPERTIES`)."""

_AS_GROUP = frozenset({"a", "switch"})
_COMMON = frozenset({"id", "class", "style", "transform"})
_TEXT_HOLDERS = frozenset({"text", "tspan"})
_GRADIENTS = frozenset({"linearGradient", "radialGradient"})
_URL_TARGETS = _GRADIENTS | {"pattern", "clipPath", "mask"}
_HREF_TARGETS = {"use": None, "pattern": frozenset({"pattern"})} | dict.fromkeys(
    _GRADIENTS, _GRADIENTS
)  # None: any kept element
_ID = re.compile(r"[A-Za-z_][\w.\-]*")
_CLASS = re.compile(r"[\w\s\-]*")
_PLAIN_VALUE = re.compile(r"[\w\s.,%+\-()#]*")  # numbers, lengths, paths, points, transforms
_LOCAL_URL = re.compile(r"url\(\s*[\"']?#([A-Za-z_][\w.\-]*)", re.IGNORECASE)
_XLINK_HREF = f"{{{XLINK_NS}}}href"
_XML_SPACE = f"{{{XML_NS}}}space"


def sanitize(data: bytes, width: int, height: int) -> bytes:
    """A new SVG document drawing only the allowed parts of `data`, `width` by `height` CSS
    pixels (its declared size, as `formats.svg` read it)."""
    root = svg.read(data)
    plain = not root.tag.startswith("{")  # an SVG without its namespace: its names are SVG's
    ids = dict(_kept_ids(root, plain))
    clean = _Rebuild(ids, plain).root(root, width, height)
    _check_drawn(clean)
    document: bytes = tostring(clean, encoding="utf-8", xml_declaration=True)
    return document


def _name(tag: str, plain: bool) -> str | None:
    """The SVG element name of `tag`, mapped to `g` for links and switches; None if not SVG."""
    prefix = f"{{{SVG_NS}}}"
    if tag.startswith(prefix):
        local = tag[len(prefix) :]
    elif plain and not tag.startswith("{"):
        local = tag
    else:
        return None
    return "g" if local in _AS_GROUP else local


def _kept_ids(element: Element, plain: bool) -> Iterator[tuple[str, str]]:
    """(id, element name) of every element the rebuild keeps."""
    name = _name(element.tag, plain)
    if name not in ELEMENTS:
        return
    identifier = element.get("id")
    if identifier is not None and _ID.fullmatch(identifier):
        yield identifier, name
    for child in element:
        yield from _kept_ids(child, plain)


class _Rebuild:
    def __init__(self, ids: dict[str, str], plain: bool) -> None:
        self.ids, self.plain = ids, plain

    def root(self, source: Element, width: int, height: int) -> Element:
        clean = Element(f"{{{SVG_NS}}}svg")
        self._attributes(source, clean, "svg")
        clean.set("width", str(width))
        clean.set("height", str(height))
        clean.attrib.pop("x", None)
        clean.attrib.pop("y", None)
        box = svg.view_box(source.get("viewBox"))
        if box is None:
            clean.attrib.pop("viewBox", None)
        else:
            clean.set("viewBox", f"{box.x:g} {box.y:g} {box.width:g} {box.height:g}")
        self._children(source, clean, "svg")
        return clean

    def _children(self, source: Element, clean: Element, name: str) -> None:
        keeps_text = name in _TEXT_HOLDERS
        if keeps_text and source.text:
            clean.text = source.text
        if name == "style":
            clean.text = clean_sheet(source.text or "", self._gradient)
        for child in source:
            child_name = _name(child.tag, self.plain)
            if child_name not in ELEMENTS:
                continue  # dropped with all it holds
            element = SubElement(clean, f"{{{SVG_NS}}}{child_name}")
            self._attributes(child, element, child_name)
            self._children(child, element, child_name)
            if keeps_text and child.tail:
                element.tail = child.tail

    def _attributes(self, source: Element, clean: Element, name: str) -> None:
        allowed = ELEMENTS[name]
        for key, value in source.attrib.items():
            if key in (_XLINK_HREF, "href"):
                self._href(value, clean, name)
            elif key == _XML_SPACE and value in ("default", "preserve"):
                clean.set(key, value)
            elif key == "style":
                if declarations := clean_declarations(value, self._url_target):
                    clean.set("style", declarations)
            elif key in PROPERTIES:
                if (cleaned := clean_value(value, self._url_target)) is not None:
                    clean.set(key, cleaned)
            elif (key in allowed or key in _COMMON) and _plain_attribute(key, value):
                clean.set(key, value)

    def _href(self, value: str, clean: Element, name: str) -> None:
        if name not in _HREF_TARGETS or not value.startswith("#"):
            return
        target = self.ids.get(value[1:])
        kinds = _HREF_TARGETS[name]
        if target is not None and (kinds is None or target in kinds):
            clean.set(_XLINK_HREF, value)

    def _url_target(self, identifier: str) -> bool:
        return self.ids.get(identifier) in _URL_TARGETS

    def _gradient(self, identifier: str) -> bool:
        return self.ids.get(identifier) in _GRADIENTS


def _plain_attribute(key: str, value: str) -> bool:
    if key == "id":
        return bool(_ID.fullmatch(value))
    if key == "class":
        return bool(_CLASS.fullmatch(value))
    return bool(_PLAIN_VALUE.fullmatch(value)) and "url" not in value.lower()


def _check_drawn(root: Element) -> None:
    """Refuse a document whose references draw more than `MAX_DRAWN` elements, or loop."""
    by_id = {element.get("id"): element for element in root.iter() if element.get("id")}
    drawn: dict[int, int] = {}
    visiting: set[int] = set()

    def references(element: Element) -> Iterator[Element]:
        href = element.get(_XLINK_HREF)
        names = [href[1:]] if href else []
        for value in (element.get(key) for key in ("fill", "stroke", "clip-path", "mask")):
            names.extend(_LOCAL_URL.findall(value or ""))
        names.extend(_LOCAL_URL.findall(element.get("style", "")))
        yield from (by_id[name] for name in names if name in by_id)

    def count(element: Element, nesting: int) -> int:
        key = id(element)
        if key in drawn:
            return drawn[key]
        if key in visiting:
            raise UndecodableImage("the SVG's references (use, url(#id), href) form a loop")
        if nesting > _MAX_NESTING:
            raise PayloadTooLarge(f"the SVG nests references deeper than {_MAX_NESTING} levels")
        visiting.add(key)
        total = 1
        for inner in (*element, *references(element)):
            total += count(inner, nesting + 1)
            if total > MAX_DRAWN:
                raise PayloadTooLarge(
                    f"the SVG would draw more than {MAX_DRAWN} elements (use and url(#id) "
                    "references draw their target again)"
                )
        visiting.discard(key)
        drawn[key] = total
        return total

    count(root, 0)
