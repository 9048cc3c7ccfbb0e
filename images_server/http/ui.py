"""`GET /`: the web UI for responsive image packs (docs/api.md §2, §7), and its assets under
`/assets/`.

The page is one Jinja template (`images_server/templates/index.html`) and two plain files,
`app.js` and `app.css`, served from the package: no CDN, no build step, no framework. The
server renders the choices it accepts (formats, roles, the upload limit), so the form cannot
offer what the API refuses; the script only talks to the packs API (`/packs/analyze`, `/packs`,
`/packs/<id>`, its files, snippets and ZIP). The page's Content-Security-Policy allows only
same-origin scripts, styles and requests, and images from the server, `data:` (placeholders)
and `blob:` (the local preview, and previews fetched with an API key).
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from images_server.formats import INPUT_FORMATS, TITLES
from images_server.http import services
from images_server.http.sessions import ensure_session
from images_server.packs.options import FORMATS, role_defaults
from images_server.settings import Settings

bp = Blueprint(
    "ui",
    __name__,
    template_folder="../templates",
    static_folder="../static",
    static_url_path="/assets",
)

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def human_bytes(count: int) -> str:
    """`count` bytes in words, as the page shows sizes (decimal units, like the script)."""
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count} bytes"


def input_formats_text(settings: Settings) -> str:
    """The formats an upload may be in, as the page words them ("JPEG, …, HEIC or TIFF")."""
    names = [TITLES[fmt] for fmt in INPUT_FORMATS if fmt != "svg" or settings.svg_enabled]
    return ", ".join(names[:-1]) + " or " + names[-1]


@bp.get("/")
def index() -> Response:
    settings = services().settings
    html = render_template(
        "index.html",
        formats=FORMATS,
        format_names=TITLES,
        roles=role_defaults(),  # the page shows what choosing a role implies
        max_upload_bytes=int(settings.max_upload_bytes),
        max_upload_text=human_bytes(int(settings.max_upload_bytes)),
        input_formats_text=input_formats_text(settings),
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-cache"
    return ensure_session(response)  # packs made from this page are bound to it
