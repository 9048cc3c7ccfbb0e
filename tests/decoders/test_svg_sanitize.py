"""The sanitizer's allow-list, element by element and declaration by declaration; and that
any mutation of a valid SVG is either refused as an image error or rebuilt into a document
librsvg draws."""

from __future__ import annotations

import contextlib

import pyvips
from defusedxml.ElementTree import fromstring
from hypothesis import given, settings
from hypothesis import strategies as st

from images_server.decoders import decode
from images_server.decoders.svg_css import clean_declarations, clean_sheet
from images_server.decoders.svg_sanitize import sanitize
from images_server.errors import ImagesError
from images_server.formats.sniff import sniff
from tests.svgs import NS, RICH

SVG = "{http://www.w3.org/2000/svg}"


def rebuilt(body: str, attributes: str = "") -> str:
    data = f'<svg {NS} width="10" height="10" {attributes}>{body}</svg>'.encode()
    return sanitize(data, 10, 10).decode()


def tags(document: str) -> list[str]:
    return [element.tag.removeprefix(SVG) for element in fromstring(document).iter()]


def test_links_and_switches_become_groups_and_keep_their_drawing() -> None:
    document = rebuilt('<a href="https://x"><switch><rect width="1" height="1"/></switch></a>')
    assert tags(document) == ["svg", "g", "g", "rect"]
    assert "https" not in document


def test_an_svg_without_its_namespace_is_written_with_it() -> None:
    document = sanitize(b'<svg width="4" height="4"><circle r="2"/></svg>', 4, 4).decode()
    assert tags(document) == ["svg", "circle"]
    assert "http://www.w3.org/2000/svg" in document


def test_the_root_gets_the_declared_size_and_a_clean_view_box() -> None:
    root = fromstring(rebuilt("", 'viewBox="0,0 , 20 20" x="5" onload="x()"'))
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("10", "10", "0 0 20 20")
    assert root.get("x") is None
    assert root.get("onload") is None


def test_references_only_to_kept_elements_of_the_right_kind() -> None:
    document = rebuilt(
        '<linearGradient id="g"/><rect id="r" width="1" height="1"/>'
        '<use href="#r"/><use href="#missing"/><linearGradient id="h" href="#r"/>'
        '<circle r="1" fill="url(#g)"/><circle r="1" fill="url(#r)"/>'
        '<circle r="1" style="fill:url(#g);stroke:url(#r)"/>'
    )
    assert document.count('href="#r"') == 1  # the use; not the gradient's
    assert 'fill="url(#g)"' in document
    assert "url(#r)" not in document
    assert 'style="fill:url(#g)"' in document


def test_text_keeps_its_characters_and_nothing_else_does() -> None:
    document = rebuilt("<g>loose</g><text>a<tspan>b</tspan>c<script/>d</text>")
    root = fromstring(document)
    text = root.find(f"{SVG}text")
    assert text is not None
    assert "".join(text.itertext()) == "abc"
    assert "loose" not in document


def test_declarations() -> None:
    def local(identifier: str) -> bool:
        return identifier == "ok"

    assert clean_declarations("fill: red; FILL:blue !important; color:#fff", local) == (
        "fill:red;fill:blue;color:#fff"
    )
    assert clean_declarations("fill:url(#ok);stroke:url('#ok')", local) == (
        "fill:url(#ok);stroke:url('#ok')"
    )
    assert clean_declarations("font-family:'Open Sans', \"DejaVu Sans\", sans-serif", local)
    for dropped in (
        "fill:url(#nope)",
        "fill:url(http://x/#ok)",
        "fill:url(//x/a#ok)",
        "behavior:url(x.htc)",
        "background:url(x)",
        "fill:var(--x)",
        "fill:attr(x)",
        "fill:r\\65 d",
        "fill:red/**/;x",
        "font-family:x;src:url(f.ttf)",
        "fill:rgb(1,2,3) url(x)",
    ):
        assert "url(x" not in clean_declarations(dropped, local)
        assert clean_declarations(dropped, local) in ("", "fill:red", "font-family:x"), dropped


def test_sheets() -> None:
    def local(identifier: str) -> bool:
        return identifier == "g"

    sheet = clean_sheet(".a, g > rect{fill:url(#g)} #b *{stroke:red;x:y} a[href]{fill:red}", local)
    assert sheet == ".a, g > rect{fill:url(#g)}\n#b *{stroke:red}"
    assert clean_sheet("@import 'x.css'; rect{fill:red}", local) == ""
    assert clean_sheet("rect{fill:red} /* @font-face */", local) == "rect{fill:red}"
    assert clean_sheet("rect{fill:\\72 ed}", local) == ""
    assert clean_sheet("rect{fill:red}</style><script>", local) == ""


@settings(max_examples=150, deadline=None)
@given(st.integers(0, len(RICH)), st.binary(min_size=1, max_size=12), st.integers(0, 3))
def test_mutations_are_refused_or_drawn(position: int, blob: bytes, kind: int) -> None:
    if kind == 0:
        data = RICH[:position] + blob + RICH[position:]
    elif kind == 1:
        data = RICH[:position] + blob + RICH[position + len(blob) :]
    elif kind == 2:
        data = RICH[:position]
    else:
        data = RICH[:position] + RICH[position + len(blob) :]
    with contextlib.suppress(ImagesError):
        info = sniff(data)
        image = decode(data, info)
        assert isinstance(image, pyvips.Image)
        assert (image.width, image.height, image.bands) == (info.width, info.height, 4)
