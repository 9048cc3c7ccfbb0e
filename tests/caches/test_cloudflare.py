"""The Cloudflare purger against a local stand-in for Cloudflare's API, and the CDN base URL.

The stand-in is a real HTTP server on loopback that records each request and answers as
Cloudflare does, so the tests check the exact request (method, path, token, JSON body) and
what a refusal becomes. The app tests run the real app with the purger pointed at it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from images_server.app import create_app
from images_server.caches.cloudflare import API_BASE, CloudflarePurger, http_purgers
from images_server.caches.nginx import NginxPurger
from images_server.errors import ServiceUnavailable
from images_server.hashing import ImageRef, Namespace
from images_server.settings import Settings, SettingsError, load_settings
from images_server.wiring import build_services
from tests.images import quadrant_bytes

HASH = "ab" * 32
TOKEN = "cf-token-secret-0123456789"
OK = {"success": True, "errors": [], "messages": [], "result": {"id": "purge-1"}}


@dataclass
class StandIn:
    api_base: str
    seen: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    reply: dict[str, Any] = field(default_factory=lambda: dict(OK))


@pytest.fixture
def cloudflare() -> Iterator[StandIn]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            headers = {key.lower(): value for key, value in self.headers.items()}
            stand_in.seen.append({"path": self.path, "headers": headers, "json": json.loads(body)})
            data = json.dumps(stand_in.reply).encode()
            self.send_response(stand_in.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stand_in = StandIn(f"http://127.0.0.1:{server.server_address[1]}/client/v4")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield stand_in
    server.shutdown()
    server.server_close()
    thread.join()


def purger(stand_in: StandIn, cdn: str = "https://cdn.example.com") -> CloudflarePurger:
    return CloudflarePurger("zone123", TOKEN, cdn, api_base=stand_in.api_base)


def test_purge_sends_one_prefix_request(cloudflare: StandIn) -> None:
    assert purger(cloudflare).purge(ImageRef(Namespace.ORIGINALS, HASH)) == -1
    assert len(cloudflare.seen) == 1
    request = cloudflare.seen[0]
    assert request["path"] == "/client/v4/zones/zone123/purge_cache"
    assert request["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert request["headers"]["content-type"] == "application/json"
    assert request["json"] == {"prefixes": [f"cdn.example.com/image/{HASH}"]}


def test_a_path_in_the_cdn_base_is_part_of_the_prefix(cloudflare: StandIn) -> None:
    purger(cloudflare, "https://cdn.example.com:8443/media/").purge(
        ImageRef(Namespace.ORIGINALS, HASH)
    )
    assert cloudflare.seen[0]["json"] == {"prefixes": [f"cdn.example.com:8443/media/image/{HASH}"]}


def test_external_originals_are_not_on_the_cdn(cloudflare: StandIn) -> None:
    assert purger(cloudflare).purge(ImageRef(Namespace.EXTERNAL, HASH)) == 0
    assert cloudflare.seen == []


def test_a_refusal_is_service_unavailable_and_never_shows_the_token(cloudflare: StandIn) -> None:
    cloudflare.status = 403
    cloudflare.reply = {"success": False, "errors": [{"code": 10000, "message": "Auth error"}]}
    with pytest.raises(ServiceUnavailable) as raised:
        purger(cloudflare).purge(ImageRef(Namespace.ORIGINALS, HASH))
    assert "403" in raised.value.message
    assert "Auth error" in raised.value.message
    assert TOKEN not in raised.value.message


def test_success_false_is_service_unavailable(cloudflare: StandIn) -> None:
    cloudflare.reply = {"success": False, "errors": [{"code": 1134, "message": "rate limited"}]}
    with pytest.raises(ServiceUnavailable, match="rate limited"):
        purger(cloudflare).purge(ImageRef(Namespace.ORIGINALS, HASH))


def test_an_unreachable_api_is_service_unavailable() -> None:
    closed = CloudflarePurger("z", TOKEN, "https://cdn.example.com", api_base="http://127.0.0.1:9")
    with pytest.raises(ServiceUnavailable, match="unreachable"):
        closed.purge(ImageRef(Namespace.ORIGINALS, HASH))


def test_settings_build_nginx_then_cloudflare(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        nginx_purge_url="http://nginx:8080/_purge",
        cdn_base_url="https://cdn.example.com",
        cloudflare_zone_id="zone123",
        cloudflare_api_token=TOKEN,
    )
    assert http_purgers(settings) == (
        NginxPurger("http://nginx:8080/_purge"),
        CloudflarePurger("zone123", TOKEN, "https://cdn.example.com", api_base=API_BASE),
    )
    assert [p.name for p in build_services(settings).purgers] == [
        "result_cache",
        "nginx",
        "cloudflare",
    ]
    assert http_purgers(Settings(data_dir=tmp_path)) == ()


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"cloudflare_zone_id": "z", "cloudflare_api_token": TOKEN}, "IMAGES_CDN_BASE_URL"),
        ({"cloudflare_zone_id": "z", "cdn_base_url": "https://cdn.example.com"}, "TOKEN"),
        ({"cloudflare_api_token": TOKEN}, "ZONE_ID"),
    ],
)
def test_an_incomplete_cloudflare_setup_stops_the_start(
    tmp_path: Path, values: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(data_dir=tmp_path, **values)
    assert named in str(raised.value)


@pytest.fixture
def cdn_client(tmp_path: Path, cloudflare: StandIn) -> Iterator[FlaskClient]:
    settings = Settings(data_dir=tmp_path, cdn_base_url="https://cdn.example.com/")
    services = replace(build_services(settings), http_purgers=(purger(cloudflare),))
    with create_app(settings, services).test_client() as client:
        yield client


def upload(client: FlaskClient) -> dict[str, Any]:
    data = quadrant_bytes(31, 17, "png")
    response = client.post("/upload", data=data, content_type="image/png")
    assert response.status_code == 201
    return dict(response.get_json())


def test_every_url_the_api_returns_is_on_the_cdn(cdn_client: FlaskClient) -> None:
    body = upload(cdn_client)
    assert body["url"] == f"https://cdn.example.com/image/{body['hash']}"
    signed = cdn_client.post(
        f"/image/{body['hash']}/signed-url", json={"operations": "resize/10x"}
    ).get_json()
    assert signed["url"].startswith(f"https://cdn.example.com/image/{body['hash']}/resize/10x?")
    assert "signature=" in signed["url"]


def test_purge_and_delete_purge_the_cdn(cdn_client: FlaskClient, cloudflare: StandIn) -> None:
    hash_ = upload(cdn_client)["hash"]
    purged = cdn_client.post(f"/image/{hash_}/purge")
    assert purged.status_code == 200
    assert purged.get_json()["purged"]["cloudflare"] == -1
    assert cdn_client.delete(f"/image/{hash_}").status_code == 200
    prefix = {"prefixes": [f"cdn.example.com/image/{hash_}"]}
    assert [request["json"] for request in cloudflare.seen] == [prefix, prefix]


def test_a_cdn_that_refuses_makes_purge_503(cdn_client: FlaskClient, cloudflare: StandIn) -> None:
    hash_ = upload(cdn_client)["hash"]
    cloudflare.status = 500
    cloudflare.reply = {"success": False, "errors": []}
    response = cdn_client.post(f"/image/{hash_}/purge")
    assert response.status_code == 503
    assert response.get_json()["code"] == "service_unavailable"
