"""Tests of the SSRF-safe fetcher against real upstream servers on 127.0.0.1.

Loopback is forbidden by default, so tests that must reach the upstream allow exactly its
`127.0.0.1:<port>`; other tests prove the same URL is refused without that entry. Injected
resolvers stand in for DNS. Every address used is loopback or is refused before any connect.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable

import pytest

from images_server.errors import (
    BadRequest,
    ForbiddenAddress,
    ImagesError,
    PayloadTooLarge,
    UpstreamError,
    UpstreamTimeout,
)
from images_server.security import fetch as fetch_module
from images_server.security.fetch import USER_AGENT, Fetched, FetchPolicy, fetch
from images_server.settings import load_settings
from tests.security.conftest import IMAGE, TlsUpstream, Upstream
from tests.security.hostile import LOOPBACK_IPV4_NOTATIONS

Resolver = Callable[[str, int], list[str]]


def allowed(upstream: Upstream, *, max_bytes: int = 25_000_000, **limits: float) -> FetchPolicy:
    """A policy that lets the test reach `upstream` (and only it)."""
    return FetchPolicy(
        allow_hosts=upstream.allow,
        max_bytes=max_bytes,
        timeout=limits.get("timeout", 5.0),
        max_redirects=int(limits.get("max_redirects", 3)),
    )


def no_dns(host: str, port: int) -> list[str]:
    raise AssertionError(f"the resolver must not be asked about {host}:{port}")


def resolver_for(answers: dict[str, list[str]], calls: list[str] | None = None) -> Resolver:
    def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(f"{host}:{port}")
        return answers[host]

    return resolve


def _raise(error: Exception) -> list[str]:
    raise error


def refused(url: str, policy: FetchPolicy, resolver: Resolver | None = no_dns) -> type[ImagesError]:
    with pytest.raises(ImagesError) as caught:
        fetch(url, policy, resolver)
    return type(caught.value)


# --- the happy path -------------------------------------------------------------------------


def test_fetches_an_image(upstream: Upstream) -> None:
    url = upstream.url("/image")
    assert fetch(url, allowed(upstream)) == Fetched(IMAGE, url, "image/png")


def test_sends_only_the_expected_headers(
    upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")  # would fail if it were used
    fetched = fetch(upstream.url("/echo/caf\u00e9?q=\u00fc"), allowed(upstream))
    seen = json.loads(fetched.body)
    assert seen["path"] == "/echo/caf%C3%A9?q=%C3%BC"
    assert seen["headers"] == {
        "Host": f"127.0.0.1:{upstream.port}",
        "User-Agent": USER_AGENT,
        "Accept": "image/*",
        "Accept-Encoding": "identity",
        "Connection": "close",
    }


def test_policy_from_settings() -> None:
    settings = load_settings(
        external_allow_hosts="minio:9000, 10.0.0.0/8",
        external_max_bytes="1MB",
        external_timeout=2.5,
        external_max_redirects=1,
    )
    assert FetchPolicy.from_settings(settings) == FetchPolicy(
        allow_hosts=("minio:9000", "10.0.0.0/8"), max_bytes=1_000_000, timeout=2.5, max_redirects=1
    )


@pytest.mark.parametrize("entry", ["host:0", "bad host", "10.0.0.0/40"])
def test_policy_rejects_bad_allow_entries_up_front(entry: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        FetchPolicy(allow_hosts=(entry,))


# --- the allow-list -------------------------------------------------------------------------


def test_loopback_is_refused_without_the_allow_list(upstream: Upstream) -> None:
    before = len(upstream.paths)
    assert refused(upstream.url("/image"), FetchPolicy()) is ForbiddenAddress
    assert len(upstream.paths) == before  # refused before connecting


def test_allowing_one_port_does_not_allow_another(upstream: Upstream) -> None:
    other = FetchPolicy(allow_hosts=(f"127.0.0.1:{upstream.port + 1}",))
    assert refused(upstream.url("/image"), other) is ForbiddenAddress


@pytest.mark.parametrize("entry", ["127.0.0.0/8", "127.0.0.1/32", "127.0.0.1", "127.1"])
def test_allow_entries_that_cover_the_upstream(upstream: Upstream, entry: str) -> None:
    assert fetch(upstream.url("/image"), FetchPolicy(allow_hosts=(entry,))).body == IMAGE


@pytest.mark.parametrize("entry", ["10.0.0.0/8", "::1/128", "::ffff:127.0.0.1/128", "localhost"])
def test_allow_entries_that_do_not_cover_the_upstream(upstream: Upstream, entry: str) -> None:
    assert refused(upstream.url("/image"), FetchPolicy(allow_hosts=(entry,))) is ForbiddenAddress


def test_allowed_host_name_with_and_without_port(upstream: Upstream) -> None:
    resolve = resolver_for({"images.internal": ["127.0.0.1"]})
    url = upstream.url("/image", host="images.internal")
    for entry in ("images.internal", f"IMAGES.internal:{upstream.port}"):
        assert fetch(url, FetchPolicy(allow_hosts=(entry,)), resolve).body == IMAGE
    denied = FetchPolicy(allow_hosts=("images.internal:1",))
    assert refused(url, denied, resolve) is ForbiddenAddress


def test_an_address_entry_allows_a_name_that_resolves_to_it(upstream: Upstream) -> None:
    (entry,) = upstream.allow  # 127.0.0.1:<port>, an address entry
    resolve = resolver_for({"localhost": ["127.0.0.1"], "mixed.test": ["127.0.0.1", "10.0.0.1"]})
    url = upstream.url("/image", host="localhost")
    assert fetch(url, FetchPolicy(allow_hosts=(entry,)), resolve).body == IMAGE
    before = len(upstream.paths)
    mixed = upstream.url("/image", host="mixed.test")
    with pytest.raises(ForbiddenAddress, match=r"mixed\.test: it resolves to 10\.0\.0\.1,"):
        fetch(mixed, FetchPolicy(allow_hosts=(entry,)), resolve)
    assert len(upstream.paths) == before  # refused before connecting


def test_an_address_entry_allows_localhost_through_the_system_resolver(upstream: Upstream) -> None:
    # every address the system gives for localhost (::1 too, on some hosts) as an address entry
    answers = fetch_module.system_resolver("localhost", upstream.port)
    entries = tuple(
        f"[{ip}]:{upstream.port}" if ":" in ip else f"{ip}:{upstream.port}" for ip in answers
    )
    url = upstream.url("/image", host="localhost")
    assert fetch(url, FetchPolicy(allow_hosts=entries)).body == IMAGE
    assert refused(url, FetchPolicy(allow_hosts=(f"127.0.0.1:{upstream.port + 1}",)), None) is (
        ForbiddenAddress
    )


# --- hostile URLs, refused before any DNS or connect -----------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/image.png",
        "gopher://127.0.0.1:6379/_FLUSHALL",
        "data:image/png;base64,iVBORw0KGgo=",
        "javascript:alert(1)",
        "//example.com/image.png",
        "example.com/image.png",
        "",
    ],
)
def test_other_schemes_are_bad_requests(url: str) -> None:
    with pytest.raises(BadRequest, match="only http and https"):
        fetch(url, FetchPolicy(), no_dns)


@pytest.mark.parametrize(
    "url",
    [
        "http://good.test@127.0.0.1/",  # userinfo
        "http://user:secret@example.com/",
        "http://@example.com/",
        "http://127.0.0.1\\@good.test/",
        "http:///no-host",
        "http://:80/",
        "http://example.com:99999/",  # port out of range
        "http://example.com:0/",
        "http://example.com:-1/",
        "http://example.com:http/",
        "http://exa mple.com/",
        "http://example.com/\r\nX-Injected: 1",
        "http://example.com/\x00",
        "http://\udcff.example/",  # non-ASCII garbage
        "http://a..b/",
        "http://[::1/",
        "http://256.0.0.1/",
        "http://1.2.3.4.5/",
        "http://0x100.0.0.1/",
    ],
)
def test_malformed_urls_are_bad_requests(url: str) -> None:
    assert refused(url, FetchPolicy()) is BadRequest


@pytest.mark.parametrize(
    "host",
    [
        *LOOPBACK_IPV4_NOTATIONS,
        "\uff11\uff12\uff17.\uff10.\uff10.\uff11",  # fullwidth digits, NFKC-mapped by IDNA
        "127\u30020\u30020\u30021",  # ideographic full stops
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[0:0:0:0:0:ffff:127.0.0.1]",
        "[::127.0.0.1]",
        "[2002:7f00:1::1]",
        "[64:ff9b::7f00:1]",
        "[fe80::1%25eth0]",  # zone id
        "0",
        "0.0.0.0",  # noqa: S104 - a hostile URL host, never bound
        "169.254.169.254",
        "[fd00:ec2::254]",
    ],
)
def test_loopback_and_private_in_any_notation_are_forbidden(host: str) -> None:
    assert refused(f"http://{host}/", FetchPolicy()) is ForbiddenAddress


def test_localhost_through_the_system_resolver_is_forbidden() -> None:
    assert refused("http://localhost/", FetchPolicy(), None) is ForbiddenAddress


# --- DNS answers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        ["10.0.0.1"],
        ["93.184.216.34", "127.0.0.1"],  # one bad answer is enough
        ["127.0.0.1", "93.184.216.34"],
        ["::ffff:127.0.0.1"],
        ["fe80::1%eth0"],
        ["169.254.169.254"],
    ],
)
def test_names_resolving_to_forbidden_addresses(answer: list[str]) -> None:
    calls: list[str] = []
    resolve = resolver_for({"evil.test": answer}, calls)
    assert refused("https://evil.test/cat.png", FetchPolicy(), resolve) is ForbiddenAddress
    assert calls == ["evil.test:443"]


def test_resolves_once_and_connects_to_the_checked_address(upstream: Upstream) -> None:
    answers = iter([["127.0.0.1"], ["10.66.66.66"]])  # a rebinding DNS server
    calls: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(f"{host}:{port}")
        return next(answers)

    policy = FetchPolicy(allow_hosts=("127.0.0.1/32",))
    fetched = fetch(upstream.url("/echo", host="rebind.test"), policy, rebinding)
    assert calls == [f"rebind.test:{upstream.port}"]
    assert json.loads(fetched.body)["headers"]["Host"] == f"rebind.test:{upstream.port}"


@pytest.mark.parametrize(
    ("resolver", "error"),
    [
        (lambda host, port: [], UpstreamError),
        (lambda host, port: ["not-an-ip"], UpstreamError),
        (
            lambda host, port: _raise(socket.gaierror(socket.EAI_NONAME, "no such name")),
            UpstreamError,
        ),
    ],
)
def test_resolver_failures_are_bad_gateways(resolver: Resolver, error: type[ImagesError]) -> None:
    assert refused("http://nowhere.test/", FetchPolicy(), resolver) is error


def test_a_hanging_resolver_counts_against_the_deadline() -> None:
    release = threading.Event()

    def hanging(host: str, port: int) -> list[str]:
        release.wait(5)
        return ["93.184.216.34"]

    started = time.monotonic()
    try:
        assert (
            refused("http://slow-dns.test/", FetchPolicy(timeout=0.3), hanging) is UpstreamTimeout
        )
    finally:
        release.set()
    assert time.monotonic() - started < 1.0


# --- redirects ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_follows_each_redirect_status(upstream: Upstream, status: int) -> None:
    fetched = fetch(upstream.url(f"/redirect/1?{status}"), allowed(upstream))
    assert (fetched.body, fetched.url) == (IMAGE, upstream.url(f"/redirect/0?{status}"))


def test_follows_three_redirects(upstream: Upstream) -> None:
    assert fetch(upstream.url("/redirect/3"), allowed(upstream)).body == IMAGE


def test_four_redirects_are_too_many(upstream: Upstream) -> None:
    with pytest.raises(UpstreamError, match="too many redirects"):
        fetch(upstream.url("/redirect/4"), allowed(upstream))


def test_max_redirects_zero_refuses_any_redirect(upstream: Upstream) -> None:
    with pytest.raises(UpstreamError, match="too many redirects"):
        fetch(upstream.url("/redirect/1"), allowed(upstream, max_redirects=0))


def test_redirect_to_another_host_is_resolved_and_checked_again(upstream: Upstream) -> None:
    calls: list[str] = []
    resolve = resolver_for({"a.test": ["127.0.0.1"], "b.test": ["127.0.0.1"]}, calls)
    policy = FetchPolicy(allow_hosts=("a.test", "b.test"))
    start = upstream.url(f"/redirect-to?{upstream.url('/image', host='b.test')}", host="a.test")
    assert fetch(start, policy, resolve).url == upstream.url("/image", host="b.test")
    assert calls == [f"a.test:{upstream.port}", f"b.test:{upstream.port}"]


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1:{other}/image",  # allowed host, other port
        "http://10.0.0.1/image",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]:{port}/image",
        "http://2130706433:{other}/image",
        "http://evil.test/image",  # a name resolving to a private address
        "//evil.test/image",  # scheme-relative
    ],
)
def test_redirect_to_a_forbidden_address(upstream: Upstream, location: str) -> None:
    target = location.format(port=upstream.port, other=upstream.port + 1)
    before = len(upstream.paths)
    resolve = resolver_for({"evil.test": ["10.0.0.1"]})
    url = upstream.url(f"/redirect-to?{target}")
    assert refused(url, allowed(upstream), resolve) is ForbiddenAddress
    assert len(upstream.paths) == before + 1  # only the redirecting request reached a server


@pytest.mark.parametrize(
    "location",
    ["file:///etc/passwd", "gopher://127.0.0.1/", "http://user@127.0.0.1/", "http://exa%20mple/"],
)
def test_redirect_to_an_unusable_url_is_a_bad_gateway(upstream: Upstream, location: str) -> None:
    with pytest.raises(UpstreamError, match="redirected to an unusable URL"):
        fetch(upstream.url(f"/redirect-to?{location}"), allowed(upstream))


def test_redirect_without_location(upstream: Upstream) -> None:
    with pytest.raises(UpstreamError, match="without a Location"):
        fetch(upstream.url("/redirect-to"), allowed(upstream))


# --- upstream failures ----------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 500, 204, 206, 418])
def test_non_success_status_names_the_status(upstream: Upstream, status: int) -> None:
    if status in (204, 206):
        assert fetch(upstream.url(f"/status/{status}"), allowed(upstream)).content_type
        return
    with pytest.raises(UpstreamError, match=f"answered {status}"):
        fetch(upstream.url(f"/status/{status}"), allowed(upstream))


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/truncated", "closed the connection mid-body"),
        ("/garbage", "malformed HTTP response"),
        ("/hang-up", "closed the connection without answering"),
    ],
)
def test_broken_upstreams_are_bad_gateways(upstream: Upstream, path: str, message: str) -> None:
    with pytest.raises(UpstreamError, match=message):
        fetch(upstream.url(path), allowed(upstream))


def test_connection_refused_is_a_bad_gateway(closed_port: int) -> None:
    policy = FetchPolicy(allow_hosts=(f"127.0.0.1:{closed_port}",))
    with pytest.raises(UpstreamError, match="refused the connection"):
        fetch(f"http://127.0.0.1:{closed_port}/image", policy)


# --- size and time limits -------------------------------------------------------------------


def test_huge_content_length_is_refused_before_reading(upstream: Upstream) -> None:
    with pytest.raises(PayloadTooLarge):
        fetch(upstream.url("/huge-length"), allowed(upstream))


@pytest.mark.parametrize("route", ["chunked", "until-close"])
def test_streamed_bodies_are_capped(upstream: Upstream, route: str) -> None:
    policy = allowed(upstream, max_bytes=100_000)
    assert len(fetch(upstream.url(f"/{route}/100000"), policy).body) == 100_000
    with pytest.raises(PayloadTooLarge):
        fetch(upstream.url(f"/{route}/100001"), policy)
    with pytest.raises(PayloadTooLarge):
        fetch(upstream.url(f"/{route}/5000000"), policy)


def test_content_length_exactly_at_the_cap(upstream: Upstream) -> None:
    assert fetch(upstream.url("/image"), allowed(upstream, max_bytes=len(IMAGE))).body == IMAGE
    with pytest.raises(PayloadTooLarge):
        fetch(upstream.url("/image"), allowed(upstream, max_bytes=len(IMAGE) - 1))


@pytest.mark.parametrize("route", ["/drip", "/drip-headers"])
def test_slow_drip_is_cut_at_the_deadline(upstream: Upstream, route: str) -> None:
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        fetch(upstream.url(route), allowed(upstream, timeout=1.0))
    assert 0.9 < time.monotonic() - started < 1.5


def test_the_deadline_covers_the_whole_redirect_chain(upstream: Upstream) -> None:
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        fetch(upstream.url("/redirect-to?/drip"), allowed(upstream, timeout=0.5))
    assert time.monotonic() - started < 1.0


# --- TLS ------------------------------------------------------------------------------------


@pytest.fixture
def trust_test_ca(tls_upstream: TlsUpstream, monkeypatch: pytest.MonkeyPatch) -> TlsUpstream:
    context = ssl.create_default_context(cadata=tls_upstream.ca_pem)
    monkeypatch.setattr(fetch_module, "_tls_context", lambda: context)
    return tls_upstream


def test_tls_checks_the_certificate_against_the_url_host(trust_test_ca: TlsUpstream) -> None:
    upstream = trust_test_ca.upstream
    resolve = resolver_for({"tls.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    policy = FetchPolicy(allow_hosts=("127.0.0.1/32",))
    fetched = fetch(upstream.url("/echo", host="tls.test"), policy, resolve)
    assert json.loads(fetched.body)["headers"]["Host"] == f"tls.test:{upstream.port}"
    with pytest.raises(UpstreamError, match="TLS"):
        fetch(upstream.url("/image", host="other.test"), policy, resolve)
    with pytest.raises(UpstreamError, match="TLS"):
        fetch(upstream.url("/image"), policy)  # the certificate does not name 127.0.0.1


def test_tls_refuses_an_untrusted_certificate(tls_upstream: TlsUpstream) -> None:
    resolve = resolver_for({"tls.test": ["127.0.0.1"]})
    url = tls_upstream.upstream.url("/image", host="tls.test")
    with pytest.raises(UpstreamError, match="CERTIFICATE_VERIFY_FAILED"):
        fetch(url, FetchPolicy(allow_hosts=("tls.test",)), resolve)


def test_tls_to_a_plain_http_server_is_a_bad_gateway(upstream: Upstream) -> None:
    with pytest.raises(UpstreamError, match="TLS"):
        fetch(upstream.url("/image").replace("http:", "https:"), allowed(upstream))
