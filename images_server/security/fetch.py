"""The SSRF-safe fetcher behind `GET /external?url=...`.

`fetch` accepts only http and https URLs without credentials, resolves the host once, refuses
the request unless every resolved address passes the policy of `images_server.security.addresses`
(or the operator allow-list), and then connects to the checked address itself — never to the
name again — so a DNS answer that changes between check and connect cannot redirect it. TLS is
verified against the original host name. Redirects are followed by hand, each one checked from
scratch; the body is capped in bytes, and one wall-clock deadline covers resolution, connects,
handshakes, headers and every body read, so a slow-drip server is cut off. No proxy, cookie or
credential from the environment is ever used.
"""

from __future__ import annotations

import functools
import http.client
import io
import ipaddress
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast
from urllib.parse import quote, urljoin, urlsplit

from images_server.errors import BadRequest, PayloadTooLarge, UpstreamError, UpstreamTimeout
from images_server.security.addresses import (
    AllowList,
    IPAddress,
    check_destination,
    ip_literal,
    normalise_host,
)

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

    from images_server.settings import Settings

Resolver = Callable[[str, int], list[str]]

USER_AGENT = "images-server/0.1"
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_READ_CHUNK = 64 * 1024
_UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f]")
_NON_ASCII = re.compile(r"[^\x21-\x7e]")


@dataclass(frozen=True)
class FetchPolicy:
    """Limits of one fetch; `timeout` is the total budget, redirects and body included."""

    allow_hosts: tuple[str, ...] = ()
    max_bytes: int = 25_000_000
    timeout: float = 10.0
    max_redirects: int = 3

    def __post_init__(self) -> None:
        if self.max_bytes < 0 or self.timeout <= 0 or self.max_redirects < 0:
            raise ValueError("max_bytes and max_redirects must be >= 0 and timeout > 0")
        self.allow_list  # noqa: B018 - parse now so a bad entry fails at start, not per request

    @functools.cached_property
    def allow_list(self) -> AllowList:
        return AllowList.parse(self.allow_hosts)

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchPolicy:
        return cls(
            allow_hosts=tuple(settings.external_allow_hosts),
            max_bytes=int(settings.external_max_bytes),
            timeout=settings.external_timeout,
            max_redirects=settings.external_max_redirects,
        )


@dataclass(frozen=True)
class Fetched:
    body: bytes
    url: str
    content_type: str | None


@dataclass(frozen=True)
class _Target:
    url: str
    scheme: str
    host: str
    port: int
    path: str

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def fetch(url: str, policy: FetchPolicy, resolver: Resolver | None = None) -> Fetched:
    """Download `url` under `policy`; raise an `ImagesError` (400/403/413/502/504) otherwise."""
    deadline = time.monotonic() + policy.timeout
    resolve = resolver or system_resolver
    target = parse_target(url)
    for _ in range(policy.max_redirects + 1):
        outcome = _fetch_once(target, policy, resolve, deadline)
        if isinstance(outcome, Fetched):
            return outcome
        target = _redirect_target(target, outcome)
    raise UpstreamError("too many redirects")


def system_resolver(host: str, port: int) -> list[str]:
    """The OS resolver (getaddrinfo): every TCP address of `host`."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


def parse_target(url: str) -> _Target:
    """Validate `url` (scheme, no credentials, host, port) into what `fetch` connects to."""
    if _UNSAFE_CHARS.search(url):
        raise BadRequest("the URL contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise BadRequest("the URL cannot be parsed (bad host or port)") from None
    if parts.scheme not in _DEFAULT_PORTS:
        raise BadRequest("only http and https URLs can be fetched")
    if "@" in parts.netloc:
        raise BadRequest("URLs with credentials (user@host) are refused")
    if not parts.hostname:
        raise BadRequest("the URL has no host")
    if port == 0:
        raise BadRequest("the URL has an invalid port")
    try:
        host = normalise_host(parts.hostname.encode("idna").decode("ascii"))
        path = _NON_ASCII.sub(lambda m: quote(m.group()), parts.path or "/")
        query = _NON_ASCII.sub(lambda m: quote(m.group()), parts.query)
    except UnicodeError:
        raise BadRequest("the URL has an invalid (non-ASCII) host or path") from None
    request_path = f"{path}?{query}" if query else path
    port = port or _DEFAULT_PORTS[parts.scheme]
    return _Target(url, parts.scheme, host, port, request_path)


def _redirect_target(current: _Target, location: str) -> _Target:
    try:
        return parse_target(urljoin(current.url, location))
    except BadRequest as exc:
        raise UpstreamError(f"redirected to an unusable URL: {exc.message}") from None


def _fetch_once(
    target: _Target, policy: FetchPolicy, resolve: Resolver, deadline: float
) -> Fetched | str:
    """One request: resolve, check, connect to the checked IP; a Fetched or a redirect Location."""
    ips = _resolve(target, resolve, deadline)
    check_destination(target.host, target.port, ips, policy.allow_list)
    with _upstream_errors(target):
        sock = _open_socket(target, ips, deadline)
        try:
            _send_request(sock, target, deadline)
            fake_sock = cast(socket.socket, _DeadlineSocket(sock, deadline))  # only makefile()
            response = http.client.HTTPResponse(fake_sock, method="GET")
            try:
                response.begin()
                return _handle_response(response, target, policy.max_bytes)
            finally:
                response.close()
        finally:
            sock.close()


def _resolve(target: _Target, resolve: Resolver, deadline: float) -> list[IPAddress]:
    literal = ip_literal(target.host)
    if literal is not None:
        return [literal]
    answers = _call_before_deadline(resolve, target.host, target.port, deadline)
    try:
        ips = list(dict.fromkeys(ipaddress.ip_address(answer) for answer in answers))
    except ValueError:
        raise UpstreamError(f"could not resolve {target.host}: bad answer") from None
    if not ips:
        raise UpstreamError(f"could not resolve {target.host}")
    return ips


def _call_before_deadline(resolve: Resolver, host: str, port: int, deadline: float) -> list[str]:
    """Run the resolver in a daemon thread: getaddrinfo has no timeout of its own."""
    results: list[list[str] | Exception] = []

    def run() -> None:
        try:
            results.append(resolve(host, port))
        except Exception as exc:  # handed over to the calling thread below
            results.append(exc)

    budget = deadline - time.monotonic()
    if budget > 0:
        thread = threading.Thread(target=run, name=f"resolve {host}", daemon=True)
        thread.start()
        thread.join(budget)
    if not results:
        raise UpstreamTimeout(f"resolving {host} took too long")
    if isinstance(results[0], OSError):
        raise UpstreamError(f"could not resolve {host}")
    if isinstance(results[0], Exception):
        raise results[0]
    return results[0]


@contextmanager
def _upstream_errors(target: _Target) -> Iterator[None]:
    """Turn network failures into short 502/504 messages that name only the host."""
    host = target.host
    try:
        yield
    except TimeoutError:
        raise UpstreamTimeout(f"{host} did not answer within the time limit") from None
    except ssl.SSLError as exc:
        raise UpstreamError(f"TLS with {host} failed: {exc.reason or 'handshake error'}") from None
    except http.client.IncompleteRead:
        raise UpstreamError(f"{host} closed the connection mid-body") from None
    except http.client.RemoteDisconnected:
        raise UpstreamError(f"{host} closed the connection without answering") from None
    except http.client.HTTPException:
        raise UpstreamError(f"{host} sent a malformed HTTP response") from None
    except ConnectionRefusedError:
        raise UpstreamError(f"{host} refused the connection") from None
    except OSError as exc:
        raise UpstreamError(f"could not talk to {host}: {exc.strerror or exc}") from None


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("deadline passed")
    return left


def _open_socket(target: _Target, ips: list[IPAddress], deadline: float) -> socket.socket:
    sock = _connect_any(ips, target.port, deadline)
    if target.scheme == "http":
        return sock
    try:
        sock.settimeout(_remaining(deadline))  # the handshake's total budget
        return _tls_context().wrap_socket(sock, server_hostname=target.host)
    except BaseException:
        sock.close()
        raise


def _connect_any(ips: list[IPAddress], port: int, deadline: float) -> socket.socket:
    failure: OSError = ConnectionError("no address to connect to")
    for ip in ips:
        try:
            return socket.create_connection((str(ip), port), timeout=_remaining(deadline))
        except TimeoutError:
            raise
        except OSError as exc:
            failure = exc
    raise failure


@functools.cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def _send_request(sock: socket.socket, target: _Target, deadline: float) -> None:
    head = (
        f"GET {target.path} HTTP/1.1\r\n"
        f"Host: {target.host_header}\r\n"
        f"User-Agent: {USER_AGENT}\r\n"
        "Accept: image/*\r\n"
        "Accept-Encoding: identity\r\n"
        "Connection: close\r\n"
        "\r\n"
    )
    sock.settimeout(_remaining(deadline))  # sendall's timeout is total, not per send
    sock.sendall(head.encode("ascii"))


def _handle_response(
    response: http.client.HTTPResponse, target: _Target, max_bytes: int
) -> Fetched | str:
    status = response.status
    if status in _REDIRECT_STATUSES:
        location = response.getheader("Location")
        if not location:
            raise UpstreamError(f"the external source answered {status} without a Location")
        return location
    if not 200 <= status < 300:
        raise UpstreamError(f"the external source answered {status} {response.reason}".rstrip())
    if response.length is not None and response.length > max_bytes:
        raise PayloadTooLarge(f"the external image is larger than {max_bytes} bytes")
    body = bytearray()
    while chunk := response.read1(min(_READ_CHUNK, max_bytes + 1 - len(body))):
        body += chunk
        if len(body) > max_bytes:
            raise PayloadTooLarge(f"the external image is larger than {max_bytes} bytes")
    if response.length:  # bytes promised by Content-Length that never came
        raise UpstreamError(f"{target.host} closed the connection mid-body")
    return Fetched(bytes(body), target.url, response.getheader("Content-Type"))


class _DeadlineSocket:
    """The part of a socket `HTTPResponse` uses (`makefile`), with the fetch deadline applied."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))


class _DeadlineReader(io.RawIOBase):
    """Raw reader giving each recv only the time left, so headers and body share one deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        self._sock.settimeout(_remaining(self._deadline))
        return self._sock.recv_into(buffer)
