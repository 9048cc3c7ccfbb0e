"""Rate limits over HTTP: `429` with `Retry-After`, per client, cache hits free, Redis shared.

Also the client identity (`images_server.http.clients`): peer address, trusted
`X-Forwarded-For` hops, IPv6 grouped by /64.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Request
from flask.testing import FlaskClient
from werkzeug.test import EnvironBuilder, TestResponse

from images_server.app import create_app
from images_server.errors import ServiceUnavailable
from images_server.http.clients import client_id
from images_server.services import Services
from images_server.settings import Settings
from tests.conftest_redis import RedisServer
from tests.images import quadrant_bytes
from tests.origin import Origin

MakeClient = Callable[..., FlaskClient]


@pytest.fixture
def make_client(tmp_path: Path) -> MakeClient:
    def make(**values: object) -> FlaskClient:
        settings = Settings(data_dir=tmp_path / "data", engine="vips", **values)  # type: ignore[arg-type]
        return create_app(settings).test_client()

    return make


def upload(
    client: FlaskClient, data: bytes | None = None, forwarded_for: str | None = None
) -> TestResponse:
    data = data or quadrant_bytes(32, 24, "png")
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    return client.post("/upload", data={"file": (io.BytesIO(data), "x.png")}, headers=headers)


def from_ip(address: str) -> dict[str, object]:
    return {"environ_base": {"REMOTE_ADDR": address}}


def assert_rate_limited(response: TestResponse, period: int = 60) -> None:
    assert response.status_code == 429, response.data
    body = response.get_json()
    assert set(body) == {"status", "message", "code"}
    assert (body["status"], body["code"]) == ("error", "rate_limited")
    retry_after = int(response.headers["Retry-After"])
    assert period - 2 <= retry_after <= period
    assert response.headers["Cache-Control"] == "no-store"


def test_upload_past_the_limit_is_429_with_retry_after(make_client: MakeClient) -> None:
    client = make_client(rate_limit_uploads="3/minute")
    for _ in range(3):
        assert upload(client).status_code == 201
    assert_rate_limited(upload(client))


def test_upload_limit_is_checked_before_the_body_is_read(make_client: MakeClient) -> None:
    client = make_client(rate_limit_uploads="1/minute", max_upload_bytes=10_000)
    assert upload(client).status_code == 201
    too_big = upload(client, b"\x89PNG" + b"\0" * 200_000)
    assert_rate_limited(too_big)  # not 413: the body was never touched


def test_clients_behind_a_trusted_proxy_count_apart(make_client: MakeClient) -> None:
    client = make_client(rate_limit_uploads="2/minute", trusted_proxies=1)
    for _ in range(2):
        assert upload(client, forwarded_for="203.0.113.1").status_code == 201
    assert_rate_limited(upload(client, forwarded_for="203.0.113.1"))
    forged = upload(client, forwarded_for="192.0.2.9, 203.0.113.1")
    assert_rate_limited(forged)  # a forged entry left of the proxy's changes nothing
    assert upload(client, forwarded_for="203.0.113.1, 203.0.113.2").status_code == 201


def test_forwarded_for_is_ignored_without_trusted_proxies(make_client: MakeClient) -> None:
    client = make_client(rate_limit_uploads="2/minute")
    assert upload(client, forwarded_for="203.0.113.1").status_code == 201
    assert upload(client, forwarded_for="203.0.113.2").status_code == 201
    assert_rate_limited(upload(client, forwarded_for="203.0.113.3"))


def test_peers_count_apart_and_ipv6_by_slash_64(make_client: MakeClient) -> None:
    client = make_client(rate_limit_uploads="1/minute")
    assert client.get("/healthz", **from_ip("198.51.100.1")).status_code == 200
    for address in ("198.51.100.1", "198.51.100.2", "2001:db8:0:1::1", "2001:db8:0:2::1"):
        image = io.BytesIO(quadrant_bytes(8, 8, "png"))
        response = client.post("/upload", data={"file": (image, "x.png")}, **from_ip(address))
        assert response.status_code == 201, address
    image = io.BytesIO(quadrant_bytes(8, 8, "png"))
    rotated = client.post("/upload", data={"file": (image, "x.png")}, **from_ip("2001:db8:0:1::ff"))
    assert_rate_limited(rotated)  # same /64 as 2001:db8:0:1::1


def test_cache_hits_are_never_limited_and_misses_are(make_client: MakeClient) -> None:
    client = make_client(rate_limit_renders="2/minute")
    hash_ = upload(client).get_json()["hash"]
    assert client.get(f"/image/{hash_}/resize/10x").status_code == 200
    assert client.get(f"/image/{hash_}/resize/11x").status_code == 200
    assert_rate_limited(client.get(f"/image/{hash_}/resize/12x"))
    for _ in range(5):
        assert client.get(f"/image/{hash_}/resize/10x").status_code == 200  # a cache hit
    assert client.get(f"/image/{hash_}").status_code == 200  # the original is not a render


def test_without_a_cache_every_render_counts(make_client: MakeClient) -> None:
    client = make_client(rate_limit_renders="2/minute", cache="none")
    hash_ = upload(client).get_json()["hash"]
    for _ in range(2):
        assert client.get(f"/image/{hash_}/resize/10x").status_code == 200
    assert_rate_limited(client.get(f"/image/{hash_}/resize/10x"))


def test_zero_turns_limits_off(make_client: MakeClient) -> None:
    client = make_client(rate_limit_uploads="0", rate_limit_renders="0", cache="none")
    hash_ = upload(client).get_json()["hash"]
    for _ in range(8):
        assert upload(client).status_code == 201
        assert client.get(f"/image/{hash_}/resize/10x").status_code == 200


def external(client: FlaskClient, url: str, operations: str) -> TestResponse:
    return client.get(f"/external?url={quote(url, safe='')}&operations={operations}")


def test_external_past_the_limit_is_429(make_client: MakeClient, origin: Origin) -> None:
    client = make_client(
        rate_limit_external="2/minute", external_allow_hosts=(f"127.0.0.1:{origin.port}",)
    )
    url = origin.url("/photo.png")
    assert external(client, url, "resize/10x").status_code == 200
    assert external(client, url, "resize/10x").status_code == 200
    assert_rate_limited(external(client, url, "resize/10x"))
    assert origin.hits["/photo.png"] == 1


def test_external_fetch_counts_one_render(make_client: MakeClient, origin: Origin) -> None:
    client = make_client(
        rate_limit_renders="1/minute", external_allow_hosts=(f"127.0.0.1:{origin.port}",)
    )
    url = origin.url("/photo.png")
    assert external(client, url, "resize/10x").status_code == 200  # fetched and rendered once
    assert external(client, url, "resize/10x").status_code == 200  # a cache hit
    assert_rate_limited(external(client, url, "resize/20x"))


def test_workers_sharing_redis_share_the_count(make_client: MakeClient, redis_url: str) -> None:
    worker_a, worker_b = (
        make_client(rate_limit_uploads="3/minute", rate_limit_storage_url=redis_url)
        for _ in range(2)
    )
    assert upload(worker_a).status_code == 201
    assert upload(worker_b).status_code == 201
    assert upload(worker_a).status_code == 201
    assert_rate_limited(upload(worker_b))


def test_redis_down_still_serves_and_readiness_reports_it(
    make_client: MakeClient, start_redis: Callable[[], RedisServer]
) -> None:
    server = start_redis()
    client = make_client(rate_limit_uploads="1/minute", rate_limit_storage_url=server.url)
    hash_ = upload(client).get_json()["hash"]
    assert_rate_limited(upload(client))
    server.stop()
    assert upload(client).status_code == 201  # fail open
    assert client.get(f"/image/{hash_}/resize/10x").status_code == 200
    services: Services = client.application.extensions["images"]
    with pytest.raises(ServiceUnavailable):
        services.limiter.check_storage()


def request_with(remote: str | None, *forwarded: str) -> Request:
    headers = [("X-Forwarded-For", value) for value in forwarded]
    environ_base = {"REMOTE_ADDR": remote} if remote is not None else {}
    builder = EnvironBuilder(headers=headers, environ_base=environ_base)
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    if remote is None:
        environ.pop("REMOTE_ADDR", None)
    return Request(environ)


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "expected"),
    [
        ("198.51.100.7", (), 0, "198.51.100.7"),
        ("198.51.100.7", ("203.0.113.1",), 0, "198.51.100.7"),
        ("10.0.0.2", ("203.0.113.1",), 1, "203.0.113.1"),
        ("10.0.0.2", ("192.0.2.1, 203.0.113.1",), 1, "203.0.113.1"),
        ("10.0.0.2", ("192.0.2.1, 203.0.113.1, 10.0.0.9",), 2, "203.0.113.1"),
        ("10.0.0.2", ("192.0.2.1", "203.0.113.1"), 1, "203.0.113.1"),  # two headers, joined
        ("10.0.0.2", ("203.0.113.1",), 2, "10.0.0.2"),  # fewer entries than proxies
        ("10.0.0.2", ("unknown",), 1, "10.0.0.2"),
        ("10.0.0.2", ("",), 1, "10.0.0.2"),
        ("10.0.0.2", ("203.0.113.1:4711",), 1, "203.0.113.1"),
        ("10.0.0.2", ("[2001:db8::1]:4711",), 1, "2001:db8::/64"),
        ("2001:db8:aa:bb:1:2:3:4", (), 0, "2001:db8:aa:bb::/64"),
        ("2001:db8:aa:bb:ffff::9", (), 0, "2001:db8:aa:bb::/64"),
        ("::ffff:198.51.100.7", (), 0, "198.51.100.7"),
        (None, (), 0, "unknown"),
        ("/run/images.sock", (), 0, "/run/images.sock"),
    ],
)
def test_client_id(
    remote: str | None, forwarded: tuple[str, ...], trusted: int, expected: str
) -> None:
    assert client_id(request_with(remote, *forwarded), trusted) == expected
