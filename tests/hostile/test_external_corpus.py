"""The hostile corpus served by a loopback origin (with lying Content-Types) and fetched
through `/external` on both engines: the same answers as an upload (200 for the images it
accepts), never a 5xx, nothing left in storage for a refused body, no temp file, a healthy
app after. URLs that smuggle ImageMagick coders or local files are refused before any fetch.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from images_server.app import create_app
from images_server.hashing import external_ref
from images_server.services import Services
from images_server.settings import Settings
from tests.hostile.conftest import (
    assert_error,
    assert_healthy,
    describe,
    files_under,
    hostile_settings,
    temp_files,
)
from tests.hostile.corpus import Hostile, corpus, small
from tests.origin import Origin


@pytest.fixture(scope="module")
def served(origin: Origin) -> Origin:
    for item in corpus():
        origin.routes[f"/corpus/{item.name}"] = (200, item.mime, item.data)
    return origin


def route(item: Hostile, engine_name: str) -> str:
    """A path of its own per engine, so the origin's hit counts are per test."""
    return f"/corpus/{item.name}?engine={engine_name}"


@pytest.fixture
def external_settings(tmp_path: Path, engine_name: str, served: Origin) -> Settings:
    allow = (f"127.0.0.1:{served.port}",)
    return hostile_settings(tmp_path / "data", engine_name, external_allow_hosts=allow)


@pytest.fixture
def external_app(external_settings: Settings) -> Flask:
    return create_app(external_settings)


@pytest.fixture
def external_services(external_app: Flask) -> Services:
    return cast(Services, external_app.extensions["images"])


@pytest.fixture
def external(external_app: Flask) -> FlaskClient:
    return external_app.test_client()


def fetch(client: FlaskClient, url: str, operations: str = "") -> TestResponse:
    query = f"url={quote(url, safe='')}"
    if operations:
        query += f"&operations={quote(operations, safe='/')}"
    return client.get(f"/external?{query}")


@pytest.mark.parametrize("item", corpus(), ids=lambda item: item.name)
def test_external_answers_each_hostile_body(
    item: Hostile,
    external: FlaskClient,
    external_settings: Settings,
    external_services: Services,
    served: Origin,
    engine_name: str,
) -> None:
    path = route(item, engine_name)
    served.routes[path] = served.routes[f"/corpus/{item.name}"]
    url = served.url(path)
    before = files_under(external_settings.data_dir)

    response = fetch(external, url)

    status, code = item.external_answer
    if status == 200:
        assert response.status_code == 200, describe(response)
        assert item.format is not None
        assert response.mimetype in item.served_types
        assert response.headers.get("X-Content-Type-Options") == "nosniff"
        assert external_services.storage.exists(external_ref(url))
        variant = fetch(external, url, "resize/32x")
        assert variant.status_code == 200, describe(variant)
        assert variant.mimetype in item.served_types
        assert served.hits[path] == 1  # the original is kept
    else:
        assert_error(response, status, code)
        assert not external_services.storage.exists(external_ref(url))
        assert files_under(external_settings.data_dir) == before
    assert not temp_files(external_settings.data_dir)
    assert_healthy(external)


def test_a_body_over_the_download_limit_is_413_and_not_kept(
    tmp_path: Path, engine_name: str, served: Origin
) -> None:
    data = small("png")
    served.routes[f"/big.png?engine={engine_name}"] = (200, "image/png", data)
    settings = hostile_settings(
        tmp_path / "data",
        engine_name,
        external_allow_hosts=(f"127.0.0.1:{served.port}",),
        external_max_bytes=len(data) - 1,
    )
    client = create_app(settings).test_client()

    response = fetch(client, served.url(f"/big.png?engine={engine_name}"))

    assert_error(response, 413, None)
    assert files_under(settings.data_dir) == set()
    assert_healthy(client)


SMUGGLED_URLS = [
    "file:///etc/passwd",
    "ephemeral:/etc/hostname",
    "msl:/tmp/x.msl",
    "mvg:/tmp/x.mvg",
    "label:@/etc/passwd",
    "@/etc/passwd",
    "url:https://example.com/x.jpg",
    "https:/etc/passwd",
    "ftp://127.0.0.1/x.jpg",
    "gopher://127.0.0.1:6379/_INFO",
    "data:image/png;base64,iVBORw0KGgo=",
    "javascript:alert(1)",
    "//example.com/x.jpg",
]


@pytest.mark.parametrize("url", SMUGGLED_URLS)
def test_urls_that_are_not_http_are_400_without_a_fetch(
    url: str, external: FlaskClient, external_settings: Settings
) -> None:
    response = fetch(external, url)

    assert_error(response, 400, None)
    assert files_under(external_settings.data_dir) == set()


def test_imagetragick_url_with_a_shell_command_is_400_without_a_fetch(
    external: FlaskClient, external_settings: Settings, served: Origin
) -> None:
    """`url(https://...|cmd)` of CVE-2016-3714: its spaces make it no URL at all."""
    path = '/x.jpg"|touch "/tmp/imagetragick-url'

    response = fetch(external, served.url(path))

    assert_error(response, 400, None)
    assert served.hits[path] == 0
    assert files_under(external_settings.data_dir) == set()


def test_a_pipe_in_the_url_is_only_a_path(
    external: FlaskClient, external_settings: Settings, served: Origin, engine_name: str
) -> None:
    """Without spaces the command is a path the fetcher asks for, and the origin 404s."""
    path = f"/x.jpg%22%7Ctouch${{IFS}}/tmp/imagetragick-{engine_name}"

    response = fetch(external, served.url(path))

    assert_error(response, 502, None)
    assert served.hits[path] == 1, served.hits
    assert files_under(external_settings.data_dir) == set()
    assert_healthy(external)
