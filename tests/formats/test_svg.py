"""SVG's header: recognised by its text, sized by its root, refused early when hostile.

`sniff` reads the prolog and the root element only; `formats.svg.read` (which the sanitizer
uses) reads the whole document within the element, depth and byte limits.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from images_server.errors import (
    ImagesError,
    PayloadTooLarge,
    UndecodableImage,
    UnsupportedFormat,
)
from images_server.formats import svg
from images_server.formats.sniff import SourceInfo, sniff, sniff_format

NS = 'xmlns="http://www.w3.org/2000/svg"'
W3C_DOCTYPE = (
    '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
    '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">'
)


def root(attributes: str, body: str = "") -> bytes:
    return f"<svg {NS} {attributes}>{body}</svg>".encode()


@pytest.mark.parametrize(
    "head",
    [
        b"<svg",
        b'\xef\xbb\xbf  \n<?xml version="1.0"',
        b"<!-- made by hand -->",
        b"\n\t<!DOCTYPE svg PUBLIC",
        b"<SVG ",
        b"<?xml version='1.0' encoding='utf-8'?>",
    ],
)
def test_matches_svg_text(head: bytes) -> None:
    assert svg.matches(head)
    assert sniff_format(head + b" " * 32) == "svg"


@pytest.mark.parametrize("head", [b"<html>", b"svg", b"<!DOCTYPE html>", b"\x89PNG", b"<s"])
def test_does_not_match_other_text(head: bytes) -> None:
    assert not svg.matches(head)


@pytest.mark.parametrize(
    ("attributes", "size"),
    [
        ('width="37" height="23"', (37, 23)),
        ('width="37px" height="23.4px"', (37, 23)),
        ('width="1in" height="2.54cm"', (96, 96)),
        ('width="72pt" height="6pc"', (96, 96)),
        ('width="25.4mm" height="101.6Q"', (96, 96)),
        ('width="2em" height="4ex"', (32, 32)),
        ('width=" 10 " height="1e2"', (10, 100)),
        ('viewBox="0 0 640 480"', (640, 480)),
        ('viewBox="-5,-5,40,20" width="100%" height="100%"', (40, 20)),
        ('viewBox="0 0 40 20" width="200"', (200, 100)),
        ('viewBox="0 0 40 20" height="200"', (400, 200)),
        ('width="120"', (120, 150)),
        ("", svg.DEFAULT_SIZE),
        ('width="auto" height="50%"', svg.DEFAULT_SIZE),
        ('viewBox="0 0 0 10"', svg.DEFAULT_SIZE),  # an empty viewBox is ignored, as browsers do
        ('viewBox="0 0 nan 10" width="inf"', svg.DEFAULT_SIZE),
        ('width="0.2" height="0.4"', (1, 1)),
    ],
)
def test_declared_size(attributes: str, size: tuple[int, int]) -> None:
    assert sniff(root(attributes)) == SourceInfo("svg", *size, has_alpha=True)


def test_svg_without_its_namespace_is_still_svg() -> None:
    assert sniff(b'<svg width="5" height="6"/>') == SourceInfo("svg", 5, 6, has_alpha=True)


def test_huge_declared_size_is_read_as_is_for_the_pixel_limit() -> None:
    info = sniff(root('width="100000" height="100000"'))
    assert (info.width, info.height) == (100_000, 100_000)
    assert sniff(root('width="1e300" height="1"')).width == 2**31


@pytest.mark.parametrize("attributes", ['width="0" height="10"', 'width="-3" height="10"'])
def test_empty_size_is_undecodable(attributes: str) -> None:
    with pytest.raises(UndecodableImage, match="empty size"):
        sniff(root(attributes))


def test_w3c_doctype_is_accepted_and_never_read() -> None:
    data = f'<?xml version="1.0"?>\n{W3C_DOCTYPE}\n'.encode() + root('width="4" height="3"')
    assert sniff(data).width == 4
    assert svg.read(data).get("width") == "4"


@pytest.mark.parametrize(
    ("doctype", "message"),
    [
        ('<!DOCTYPE svg [<!ENTITY x "y">]>', "internal DTD subset"),
        ('<!DOCTYPE svg SYSTEM "http://127.0.0.1:9/evil.dtd">', "DOCTYPE"),
        ('<!DOCTYPE svg PUBLIC "-//EVIL//EN" "file:///etc/passwd">', "DOCTYPE"),
        ("<!DOCTYPE html>", "DOCTYPE"),
        ("<!DOCTYPE svg [<!ELEMENT svg ANY>]>", "internal DTD subset"),
    ],
)
def test_other_doctypes_are_refused(doctype: str, message: str) -> None:
    data = f'<?xml version="1.0"?>\n{doctype}\n'.encode() + root('width="4" height="3"')
    with pytest.raises(UnsupportedFormat, match=message):
        sniff(data)


def test_xml_that_is_not_svg_is_unsupported() -> None:
    with pytest.raises(UnsupportedFormat, match="not <svg>"):
        sniff(b'<?xml version="1.0"?><html><body/></html>')
    with pytest.raises(UnsupportedFormat, match="not <svg>"):
        sniff(b'<svg:svg xmlns:svg="urn:not-svg"/>')


@pytest.mark.parametrize(
    "data",
    [b"<svg", b'<?xml version="1.0"?>', b"<svg><g></svg>", b"<!-- -->", b"<svg width='1' &>"],
)
def test_malformed_xml_is_undecodable(data: bytes) -> None:
    with pytest.raises(UndecodableImage, match="not well-formed"):
        svg.read(data)


def test_undefined_entity_is_refused() -> None:
    with pytest.raises(UndecodableImage):
        svg.read(root("", "<text>&xxe;</text>"))


def test_byte_limit() -> None:
    padding = b" " * (svg.MAX_BYTES - len(root("")) + 1)
    with pytest.raises(PayloadTooLarge, match="bytes"):
        sniff(root("") + padding)
    assert sniff(root("") + padding[:-1]).format == "svg"


def test_element_limit() -> None:
    many = "<g/>" * (svg.MAX_ELEMENTS - 1)
    assert len(svg.read(root("", many))) == svg.MAX_ELEMENTS - 1
    with pytest.raises(PayloadTooLarge, match="elements"):
        svg.read(root("", many + "<g/>"))


def test_depth_limit() -> None:
    def nested(depth: int) -> bytes:
        return root("", "<g>" * (depth - 1) + "</g>" * (depth - 1))

    svg.read(nested(svg.MAX_DEPTH))
    with pytest.raises(PayloadTooLarge, match="deeper"):
        svg.read(nested(svg.MAX_DEPTH + 1))


def test_depth_bomb_stops_early() -> None:
    """A million unclosed groups: refused at the limit, not after building them."""
    with pytest.raises(PayloadTooLarge, match="deeper"):
        svg.read(root("", "<g>" * 1_000_000))


@given(st.binary(max_size=200))
def test_any_bytes_after_a_prolog_raise_only_images_errors(tail: bytes) -> None:
    with contextlib.suppress(ImagesError):
        sniff(b"<svg " + tail)


@given(st.text(max_size=80))
def test_any_root_attributes_give_a_positive_size_or_an_images_error(value: str) -> None:
    from xml.sax.saxutils import quoteattr

    data = root(f"width={quoteattr(value)} viewBox={quoteattr(value)}")
    try:
        info = sniff(data)
    except ImagesError:
        return
    assert info.width >= 1
    assert info.height >= 1
