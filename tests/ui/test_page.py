"""`GET /` through Flask's test client: the page, its labels, its assets and its CSP.

Also `GET /packs/<id>/snippets`, the route the copy buttons read, on a pack built by the real
job function (`run_pack`) in this process.
"""

from __future__ import annotations

import re
import zipfile
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path

from flask.testing import FlaskClient

from images_server.app import create_app
from images_server.http import ui
from images_server.http.ui import PAGE_CSP, human_bytes
from images_server.jobs.packs import run_pack
from images_server.packs.options import FORMATS, ROLES
from images_server.services import Services
from images_server.settings import Settings
from tests.ui.pages import contrast

FIELDS = ("input", "select", "textarea")
STATIC = Path(ui.__file__).parent.parent / "static"
EXTERNAL = re.compile(r"(?:https?:)?//[a-z0-9]", re.IGNORECASE)


class Page(HTMLParser):
    """Collects the form fields, the labels' targets, and every URL-bearing attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, dict[str, str | None]] = {}
        self.unnamed_fields = 0
        self.labelled: set[str] = set()
        self.urls: list[str] = []
        self.scripts: list[dict[str, str | None]] = []
        self.styles_inline = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in FIELDS:
            if attributes.get("id"):
                self.fields[str(attributes["id"])] = attributes
            else:
                self.unnamed_fields += 1
        if tag == "label" and attributes.get("for"):
            self.labelled.add(str(attributes["for"]))
        if tag == "script":
            self.scripts.append(attributes)
        if tag == "style" or "style" in attributes:
            self.styles_inline += 1
        self.urls += [str(v) for k, v in attrs if k in ("src", "href", "action") and v]


def parse(client: FlaskClient) -> tuple[Page, str]:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = Page()
    text = response.get_data(as_text=True)
    page.feed(text)
    return page, text


def test_the_page_has_a_strict_policy(client: FlaskClient) -> None:
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert policy == PAGE_CSP
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no inline script, no eval
    assert directives["style-src"] == "'self'"
    assert directives["img-src"] == "'self' data: blob:"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_every_field_has_a_label_and_the_choices_are_the_servers(client: FlaskClient) -> None:
    page, text = parse(client)
    assert page.unnamed_fields == 0
    unlabelled = sorted(set(page.fields) - page.labelled)
    assert unlabelled == []
    assert page.fields["file"]["type"] == "file"
    assert page.fields["file"]["accept"] == "image/*"
    assert page.fields["api-key"]["type"] == "password"
    for fmt in FORMATS:
        assert page.fields[f"format-{fmt}"]["type"] == "checkbox"
        assert page.fields[f"quality-{fmt}"]["max"] == "100"
    assert (
        '<option value="hero" data-loading="eager" data-fetchpriority="high" data-sizes="100vw">'
        in text
    )
    for role in ROLES:
        assert f'<option value="{role}" data-loading=' in text
    for name in ("name", "widths", "role", "loading", "fetchpriority", "sizes", "alt"):
        assert name in page.fields
    assert page.fields["decorative"]["type"] == "checkbox"  # alt="" on purpose, not by omission
    assert (
        '<button type="button" id="cancel" class="button" hidden>Cancel the pack</button>' in text
    )
    for name in ("name", "widths", "sizes", "alt"):  # a 400 about the field is shown under it
        assert f'<p id="{name}-error" class="field-error" hidden></p>' in text
    assert 'role="alert"' in text  # errors are announced
    assert '<html lang="en">' in text
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in text


def test_assets_are_local_and_served(client: FlaskClient, settings: Settings) -> None:
    page, text = parse(client)
    assert [(s.get("type"), s.get("src")) for s in page.scripts] == [("module", "/assets/app.js")]
    assert page.styles_inline == 0  # the CSP would block them
    external = [url for url in page.urls if EXTERNAL.match(url)]
    assert external == []
    types = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
    served = sorted(path.name for path in STATIC.iterdir())
    assert served == ["app.css", "app.js", "common.js", "favicon.svg", "results.js"]
    for name in served:
        response = client.get(f"/assets/{name}")
        assert response.status_code == 200
        assert response.mimetype == types[Path(name).suffix]
        body = response.get_data(as_text=True)
        response.close()
        if not name.endswith(".svg"):  # an SVG names its XML namespace with a URL
            assert not re.search(r"https?://", body), f"{name} refers to another site"
        imports = re.findall(r'^import .* from "([^"]+)";$', body, re.MULTILINE)
        assert all(path.startswith("./") for path in imports)  # modules load from here only
    assert "/assets/app.css" in page.urls
    assert f"up to {human_bytes(int(settings.max_upload_bytes))}." in text  # the limit in words


def test_human_bytes() -> None:
    assert human_bytes(999) == "999 bytes"
    assert human_bytes(206_332) == "206 kB"
    assert human_bytes(50 * 10**6) == "50 MB"
    assert human_bytes(1_500_000_000) == "1.5 GB"


def test_snippets_route_returns_the_zips_snippets(
    client: FlaskClient, services: Services, samples: Path
) -> None:
    photo = (samples / "photo-1mp-1200x900.jpg").read_bytes()
    assert "images_session=" in client.get("/").headers["Set-Cookie"]  # the page's session
    created = client.post(
        "/packs",
        data={"file": (BytesIO(photo), "photo.jpg"), "formats": "webp", "widths": "160"},
        content_type="multipart/form-data",
    )
    assert created.status_code == 202
    pack_id = created.get_json()["id"]
    assert client.get(f"/packs/{pack_id}/snippets").status_code == 409  # not built yet
    assert run_pack(services, pack_id)
    response = client.get(f"/packs/{pack_id}/snippets")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    texts = response.get_json()
    archive = zipfile.ZipFile(BytesIO(client.get(f"/packs/{pack_id}/download").data))
    with archive:
        expected = {
            name.removeprefix("snippets/"): archive.read(name).decode()
            for name in archive.namelist()
            if name.startswith("snippets/")
        }
    assert texts == expected
    assert set(texts) == {"picture.html", "image-set.css", "next-image.jsx", "PhotoPicture.jsx"}
    assert "photo-160.webp 160w" in texts["picture.html"]
    with client.application.test_client() as stranger:  # another browser: no session cookie
        assert stranger.get(f"/packs/{pack_id}/snippets").status_code == 404


def test_the_focus_ring_contrasts_with_every_background_it_is_drawn_on() -> None:
    """WCAG 2.2 (1.4.11): 3:1 for the ring against the page, the panels and the drop zone."""
    css = (STATIC / "app.css").read_text()

    def colour(pattern: str) -> tuple[int, int, int]:
        match = re.search(pattern + r"\s*#([0-9a-f]{6})\b", css)
        assert match, pattern
        value = match[1]
        return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)

    ring = colour(r"--focus:")
    assert re.search(r":focus-visible[^{]*\{\s*outline: 3px solid var\(--focus\);", css)
    backgrounds = {
        "page": colour(r"\n  background:"),  # :root's
        "panel": colour(r"--panel:"),
        "dragging": colour(r"\.dropzone\.dragging \{[^}]*background:"),
    }
    assert backgrounds["page"] == (255, 255, 255)
    for name, background in backgrounds.items():
        assert contrast(ring, background) >= 3, name


def test_the_page_names_the_input_formats_and_svg_only_when_it_is_on(tmp_path: Path) -> None:
    def help_text(svg_enabled: bool) -> str:
        settings = Settings(data_dir=tmp_path / str(svg_enabled), svg_enabled=svg_enabled)
        _, text = parse(create_app(settings).test_client())
        found = re.search(r'<p id="file-help">(.*?)</p>', text)
        assert found is not None
        return found[1]

    off, on = help_text(False), help_text(True)
    for name in ("JPEG", "AVIF", "HEIC", "TIFF", "JPEG XL"):
        assert name in off
    assert "SVG" not in off
    assert "SVG" in on
