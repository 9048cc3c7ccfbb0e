"""SVG documents for tests, and the render path with SVG on (`svg_spine`)."""

from __future__ import annotations

from tests.spine import Spine, make_spine

NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'

TWO_COLOURS = (
    f'<svg {NS} width="100" height="100" viewBox="0 0 100 100">'
    '<rect width="50" height="100" fill="#ff0000"/>'
    '<rect x="50" width="50" height="100" fill="#0000ff"/></svg>'
).encode()
"""Red on the left half, blue on the right: a sharp edge at x = 50."""

RICH = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!-- a drawing -->\n'
    f'<svg {NS} width="64mm" height="48mm" viewBox="0 0 64 48">'
    "<style>.a{fill:url(#g);stroke:#222}g>circle{opacity:.8}</style>"
    '<defs><linearGradient id="g" x2="1"><stop offset="0" stop-color="#f80"/>'
    '<stop offset="1" stop-color="#08f"/></linearGradient>'
    '<clipPath id="c"><circle cx="32" cy="24" r="20"/></clipPath>'
    '<symbol id="s" viewBox="0 0 10 10"><path d="M0 0L10 5L0 10z"/></symbol></defs>'
    '<rect class="a" width="64" height="48" rx="4" clip-path="url(#c)"/>'
    '<g transform="translate(4 4)"><circle cx="6" cy="6" r="5" fill="hsl(120,60%,40%)"/>'
    '<use xlink:href="#s" x="40" y="30" width="10" height="10" fill="#fff"/></g>'
    '<text x="4" y="44" font-family="sans-serif" font-size="6">SVG</text></svg>'
).encode()
"""A drawing with a style sheet, a gradient, a clip path, a symbol, `use` and text."""

RED, BLUE = (255, 0, 0, 255), (0, 0, 255, 255)


def document(body: str, size: int = 100) -> bytes:
    """An SVG of `size` px square drawing `body` over a green background."""
    return (
        f'<svg {NS} width="{size}" height="{size}" viewBox="0 0 {size} {size}">'
        f'<rect width="{size}" height="{size}" fill="#00ff00"/>{body}</svg>'
    ).encode()


def svg_spine(engine_name: str) -> Spine:
    """`tests.spine.make_spine` with SVG accepted."""
    return make_spine(engine_name, svg_enabled=True)
