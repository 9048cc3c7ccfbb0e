"""`GET /docs`: the OpenAPI 3.1 description of the API (`images_server/openapi.yaml`), browsable.

`/docs/openapi.yaml` serves the file as kept in the package, `/docs/openapi.json` the same
document as JSON, and `/docs` a page running Swagger UI, with a link to the project's repository
(the document's `info.contact.url`, the `Source` URL of setup.cfg); `/docs/` redirects to it.
Its assets are served from the installed `flask-swagger-ui` distribution (Swagger UI 5, the
first to read OpenAPI 3.1) under `/docs/static/`, and the page's own script is a file too, so
the page works offline and under a Content-Security-Policy that allows only same-origin
scripts (`script-src 'self'`).
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, cast

from flask import Blueprint, Response, abort, redirect, request, send_from_directory, url_for
from markupsafe import escape
from werkzeug.wrappers import Response as WerkzeugResponse

bp = Blueprint("docs", __name__)

# Its `dist/` is a Swagger UI 5 build; swagger-ui-bundle 1.1 ships 4.15, which refuses 3.1.
ASSET_PACKAGE = "flask_swagger_ui"
ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})
ASSET_MAX_AGE = 86400
# Swagger UI sets element styles from script and draws icons from data: URIs in its CSS.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>images-server API</title>
<link rel="stylesheet" href="{css}">
<link rel="icon" type="image/png" href="{icon}">
</head>
<body>
<header style="font-family: sans-serif; padding: 10px 20px 0">
<a href="{repository}" rel="noopener noreferrer">images-server source, issues and README</a>
</header>
<div id="swagger-ui" data-spec-url="{spec}"></div>
<script src="{bundle}"></script>
<script src="{init}"></script>
</body>
</html>
"""

_INITIALIZER = """window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
"""


@cache
def openapi_text() -> bytes:
    """The document as kept in the package (YAML)."""
    return resources.files("images_server").joinpath("openapi.yaml").read_bytes()


@cache
def openapi_document() -> dict[str, Any]:
    """The document, parsed (PyYAML is imported here: most workers never serve /docs)."""
    import yaml

    return cast(dict[str, Any], yaml.safe_load(openapi_text()))


def repository_url() -> str:
    """The project's repository, as the document's `info.contact.url` names it."""
    return str(openapi_document()["info"]["contact"]["url"])


def asset_dir() -> Path:
    """The directory holding the Swagger UI build."""
    return Path(str(resources.files(ASSET_PACKAGE).joinpath("dist")))


def _conditional(response: Response, etag: str) -> Response:
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"  # changes with each release: revalidate
    response.make_conditional(request)  # becomes a 304 in place when the ETag matches
    return response


def _etag(*parts: bytes) -> str:
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:32]


@bp.get("/docs")
def page() -> Response:
    html = _PAGE.format(
        css=escape(url_for("docs.asset", name="swagger-ui.css")),
        icon=escape(url_for("docs.asset", name="favicon-32x32.png")),
        bundle=escape(url_for("docs.asset", name="swagger-ui-bundle.js")),
        init=escape(url_for("docs.initializer")),
        spec=escape(url_for("docs.openapi_json")),
        repository=escape(repository_url()),
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["Referrer-Policy"] = "no-referrer"
    return _conditional(response, _etag(html.encode(), openapi_text()))


@bp.get("/docs/")
def page_slash() -> WerkzeugResponse:
    # One address for the page, so its ETag and any cache entry are not kept twice.
    return redirect(url_for("docs.page"), 308)


@bp.get("/docs/openapi.yaml")
def openapi_yaml() -> Response:
    text = openapi_text()
    return _conditional(Response(text, mimetype="application/yaml"), _etag(text))


@bp.get("/docs/openapi.json")
def openapi_json() -> Response:
    body = json.dumps(openapi_document(), ensure_ascii=False)
    response = Response(body, mimetype="application/json")
    return _conditional(response, _etag(b"json", openapi_text()))


@bp.get("/docs/static/swagger-initializer.js")
def initializer() -> Response:
    response = Response(_INITIALIZER, mimetype="text/javascript")
    response.headers["Cache-Control"] = f"public, max-age={ASSET_MAX_AGE}"
    return response


@bp.get("/docs/static/<name>")
def asset(name: str) -> Response:
    if name not in ASSETS:
        abort(404)
    return send_from_directory(asset_dir(), name, max_age=ASSET_MAX_AGE)
