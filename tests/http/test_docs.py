"""`/docs`: the OpenAPI document is valid, matches the app's real routes and errors, and the
responses the app sends conform to its schemas; the browsable page uses only local assets.

The route test compares `create_app`'s url map with the document's `paths`, both ways, so a
route added without documenting it (or documented but gone) fails here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from images_server import errors
from images_server.app import create_app
from images_server.hashing import hash_bytes, parse_hash
from images_server.http import docs
from images_server.http.errors import _HTTP_CODES
from images_server.pipeline.parse import parse_pipeline
from images_server.pipeline.presets import DEFAULT_PRESETS
from images_server.settings import Settings
from tests.deploy.test_license import setup_cfg
from tests.images import quadrant_bytes

HTTP_METHODS = {"get", "put", "post", "delete", "patch"}
ASSET_PREFIX = "/docs/static/"
# Codes rendered outside the ImagesError tree: http/errors.py (unmapped statuses).
OTHER_CODES = {"http_error"}
CONTENT_TYPES = {".css": "text/css", ".js": "text/javascript", ".png": "image/png"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    data_dir = tmp_path_factory.mktemp("docs") / "data"
    return create_app(Settings(data_dir=data_dir, engine="vips"))


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as client:
        yield client


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return docs.openapi_document()


def _schema(document: dict[str, Any], name: str) -> OAS31Validator:
    """A validator for `components.schemas.<name>`, its `$ref`s resolved in the document."""
    root = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return OAS31Validator(root)


def _openapi_path(rule: str) -> str:
    """`/image/<hash_>/<pipeline:pipeline>` -> `/image/{hash}/{pipeline}`."""
    return re.sub(r"<(?:\w+:)?(\w+?)_?>", r"{\1}", rule)


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"] == "3.1.0"


def test_paths_are_exactly_the_app_routes(app: Flask, document: dict[str, Any]) -> None:
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith(ASSET_PREFIX):
            continue
        methods = {method.lower() for method in rule.methods or ()} & HTTP_METHODS
        routes.setdefault(_openapi_path(rule.rule), set()).update(methods)
    documented = {path: set(item) & HTTP_METHODS for path, item in document["paths"].items()}
    assert {path: documented[path] for path in documented.keys() - routes.keys()} == {}
    assert {path: routes[path] for path in routes.keys() - documented.keys()} == {}
    assert documented == routes


def test_path_templates_declare_their_parameters(document: dict[str, Any]) -> None:
    parameters = document["components"]["parameters"]
    for path, item in document["paths"].items():
        declared = {
            parameters[p["$ref"].rsplit("/", 1)[1]]["name"] if "$ref" in p else p["name"]
            for p in item.get("parameters", [])
        }
        assert set(re.findall(r"{(\w+)}", path)) == declared, path


def test_hash_pattern_agrees_with_the_app(document: dict[str, Any]) -> None:
    pattern = re.compile(document["components"]["parameters"]["Hash"]["schema"]["pattern"])
    good = hash_bytes(b"x")
    for candidate in (good, good.upper(), good[:-1], good + "0", "g" * 64, "metadata"):
        try:
            parse_hash(candidate)
            accepted = True
        except errors.ImageNotFound:
            accepted = False
        assert bool(pattern.search(candidate)) == accepted, candidate


def test_pipeline_examples_parse(document: dict[str, Any]) -> None:
    parameters = document["components"]["parameters"]
    for example in parameters["Pipeline"]["examples"].values():
        assert parse_pipeline(example["value"], max_ops=10)
    for example in parameters["Size"]["examples"].values():
        assert example["value"] in DEFAULT_PRESETS


def _error_codes(cls: type[errors.ImagesError]) -> set[str]:
    return {cls.code}.union(*(_error_codes(sub) for sub in cls.__subclasses__()))


def test_every_error_code_is_in_the_enum(document: dict[str, Any]) -> None:
    enum = set(document["components"]["schemas"]["Error"]["properties"]["code"]["enum"])
    known = _error_codes(errors.ImagesError) | set(_HTTP_CODES.values()) | OTHER_CODES
    assert known - enum == set()
    assert enum - known == set()  # no code the app cannot send


def test_responses_conform_to_the_schemas(client: FlaskClient, document: dict[str, Any]) -> None:
    data = quadrant_bytes(48, 32, "png")
    upload = client.post("/upload", data=data, content_type="image/png")
    assert upload.status_code == 201
    _schema(document, "UploadResult").validate(upload.get_json())
    digest = upload.get_json()["hash"]
    metadata = client.get(f"/image/{digest}/metadata")
    _schema(document, "Metadata").validate(metadata.get_json())
    signed = client.post(f"/image/{digest}/signed-url", json={"operations": "resize/20x"})
    _schema(document, "SignedUrlResult").validate(signed.get_json())
    shared = client.post(f"/image/{digest}/share", json={"user": "ann"})
    _schema(document, "ShareResult").validate(shared.get_json())
    purged = client.post(f"/image/{digest}/purge")
    _schema(document, "PurgeResult").validate(purged.get_json())
    bad = client.get(f"/image/{digest}/resize/abc")
    assert bad.status_code == 400
    _schema(document, "Error").validate(bad.get_json())


class _Links(HTMLParser):
    """Every URL the page loads, the links it offers, and the text of any inline script."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.anchors: list[dict[str, str | None]] = []
        self.inline_script = ""
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        if tag == "a":  # followed only when clicked: not something the page loads
            self.anchors.append(dict(attrs))
            return
        for name, value in attrs:
            if name in ("src", "href", "data-spec-url") and value is not None:
                self.urls.append(value)

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline_script += data.strip()


def test_page_uses_only_same_origin_assets(client: FlaskClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp
    assert "default-src 'none'" in csp
    html = page.get_data(as_text=True)
    links = _Links()
    links.feed(html)
    for anchor in links.anchors:  # the repository link, the page's only way off-site
        html = html.replace(f'href="{anchor["href"]}"', "")
    assert "http:" not in html
    assert "https:" not in html
    assert links.inline_script == ""  # the CSP would block it
    assets = [url for url in links.urls if url.startswith(ASSET_PREFIX)]
    assert len(assets) == 4
    for url in links.urls:
        assert re.match(r"/[^/]", url), url
        with client.get(url) as response:  # a file response holds its file open
            assert response.status_code == 200, url
            assert response.get_data()
            expected = CONTENT_TYPES.get(Path(url).suffix, "application/json")
            assert response.mimetype == expected, url


def test_initializer_stays_offline(client: FlaskClient) -> None:
    script = client.get("/docs/static/swagger-initializer.js").get_data(as_text=True)
    assert "http" not in script
    assert "validatorUrl: null" in script  # else Swagger UI calls validator.swagger.io


def test_swagger_ui_reads_openapi_3_1() -> None:
    version = (docs.asset_dir() / "VERSION").read_text().strip().lstrip("v")
    assert int(version.split(".")[0]) >= 5  # Swagger UI 4 refuses `openapi: 3.1.0`


def test_only_the_listed_assets_are_served(client: FlaskClient) -> None:
    for name in ("index.html", "oauth2-redirect.html", "..%2Fflask_swagger_ui.py", "nope.js"):
        response = client.get(ASSET_PREFIX + name)
        assert response.status_code == 404, name
        assert response.get_json()["code"] == "not_found"


def test_json_and_yaml_are_the_same_document(client: FlaskClient, document: dict[str, Any]) -> None:
    as_yaml = client.get("/docs/openapi.yaml")
    as_json = client.get("/docs/openapi.json")
    assert as_yaml.mimetype == "application/yaml"
    assert as_json.mimetype == "application/json"
    assert yaml.safe_load(as_yaml.get_data()) == json.loads(as_json.get_data()) == document


def test_documents_revalidate(client: FlaskClient) -> None:
    first = client.get("/docs/openapi.json")
    assert first.headers["Cache-Control"] == "no-cache"
    again = client.get("/docs/openapi.json", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_page_links_to_the_projects_repository(
    client: FlaskClient, document: dict[str, Any]
) -> None:
    source = setup_cfg()["metadata"]["project_urls"]
    repository = dict(line.split(" = ") for line in source.strip().splitlines())["Source"]
    assert repository.startswith("https://github.com/")
    assert document["info"]["contact"]["url"] == repository
    assert document["externalDocs"]["url"].startswith(repository)
    assert setup_cfg()["metadata"]["url"] == repository
    links = _Links()
    links.feed(client.get("/docs").get_data(as_text=True))
    (anchor,) = links.anchors
    assert anchor["href"] == repository
    assert anchor["rel"] == "noopener noreferrer"


def test_the_license_is_the_packages(document: dict[str, Any]) -> None:
    assert document["info"]["license"]["identifier"] == setup_cfg()["metadata"]["license"]


def test_docs_with_a_trailing_slash_leads_to_the_page(client: FlaskClient) -> None:
    slash = client.get("/docs/")
    assert slash.status_code == 308
    assert slash.headers["Location"] == "/docs"
    followed = client.get("/docs/", follow_redirects=True)
    assert followed.status_code == 200
    assert followed.request.path == "/docs"
    assert followed.get_data() == client.get("/docs").get_data()
