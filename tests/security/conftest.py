"""Local upstream servers for the fetcher tests: plain HTTP and TLS, on 127.0.0.1 only.

`upstream` serves a fixed set of routes (an image, redirect chains, errors, oversized, chunked,
slow-drip and truncated bodies, raw garbage) and records every request it receives, so a test
can prove a refused URL was never contacted. `tls_upstream` serves the same routes over TLS with
a certificate for `tls.test`, signed by a throwaway CA the test trusts explicitly.
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import hmac
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import pytest

IMAGE = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
DRIP_INTERVAL = 0.1
DRIP_MAX_STEPS = 40  # bounds a drip handler to ~4 s even if nobody hangs up


@dataclass
class Upstream:
    port: int
    scheme: str = "http"
    paths: list[str] = field(default_factory=list)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    @property
    def allow(self) -> tuple[str, ...]:
        return (f"127.0.0.1:{self.port}",)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.upstream.paths.append(self.path)
        path, _, query = self.path.partition("?")
        route, _, arg = path[1:].partition("/")
        # The fetcher hanging up mid-answer is what the slow-drip tests expect.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            ROUTES.get(route, _not_found)(self, arg, unquote(query))

    def send_body(self, body: bytes, content_type: str = "image/png", status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


Route = Callable[[_Handler, str, str], None]


def _image(handler: _Handler, arg: str, query: str) -> None:
    handler.send_body(IMAGE)


def _not_found(handler: _Handler, arg: str, query: str) -> None:
    handler.send_body(b"no such route", "text/plain", 404)


def _echo(handler: _Handler, arg: str, query: str) -> None:
    seen = {"path": handler.path, "headers": dict(handler.headers.items())}
    handler.send_body(json.dumps(seen).encode(), "application/json")


def _status(handler: _Handler, arg: str, query: str) -> None:
    handler.send_body(b"error page", "text/html", int(arg))


def _redirect(handler: _Handler, arg: str, query: str) -> None:
    """`/redirect/N?CODE`: a chain of N hops (relative Locations) ending at the image."""
    hops = int(arg)
    if hops == 0:
        _image(handler, arg, query)
        return
    handler.send_response(int(query or 302))
    handler.send_header("Location", f"/redirect/{hops - 1}?{query}")
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def _redirect_to(handler: _Handler, arg: str, query: str) -> None:
    """`/redirect-to?LOCATION`: one redirect to any Location, even a hostile one."""
    handler.send_response(302)
    if query:
        handler.send_header("Location", query)
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def _huge_length(handler: _Handler, arg: str, query: str) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", str(10**12))
    handler.end_headers()
    handler.wfile.write(IMAGE)


def _chunked(handler: _Handler, arg: str, query: str) -> None:
    """`/chunked/N`: N bytes, chunked, with no Content-Length."""
    handler.protocol_version = "HTTP/1.1"
    handler.close_connection = True
    handler.send_response(200)
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    remaining = int(arg)
    while remaining > 0:
        size = min(remaining, 4096)
        handler.wfile.write(b"%x\r\n%s\r\n" % (size, b"x" * size))
        remaining -= size
    handler.wfile.write(b"0\r\n\r\n")


def _until_close(handler: _Handler, arg: str, query: str) -> None:
    """`/until-close/N`: N bytes, delimited only by closing the connection (HTTP/1.0)."""
    handler.send_response(200)
    handler.end_headers()
    handler.wfile.write(b"x" * int(arg))


def _drip(handler: _Handler, arg: str, query: str) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    for _ in range(DRIP_MAX_STEPS):
        handler.wfile.write(b"x")
        handler.wfile.flush()
        time.sleep(DRIP_INTERVAL)


def _drip_headers(handler: _Handler, arg: str, query: str) -> None:
    handler.wfile.write(b"HTTP/1.0 200 OK\r\n")
    for _ in range(DRIP_MAX_STEPS):
        handler.wfile.write(b"X")
        handler.wfile.flush()
        time.sleep(DRIP_INTERVAL)


def _truncated(handler: _Handler, arg: str, query: str) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    handler.wfile.write(IMAGE[:10])


def _garbage(handler: _Handler, arg: str, query: str) -> None:
    handler.wfile.write(b"this is not HTTP at all\r\n\r\n")


def _hang_up(handler: _Handler, arg: str, query: str) -> None:
    handler.close_connection = True


ROUTES: dict[str, Route] = {
    "image": _image,
    "echo": _echo,
    "status": _status,
    "redirect": _redirect,
    "redirect-to": _redirect_to,
    "huge-length": _huge_length,
    "chunked": _chunked,
    "until-close": _until_close,
    "drip": _drip,
    "drip-headers": _drip_headers,
    "truncated": _truncated,
    "garbage": _garbage,
    "hang-up": _hang_up,
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    upstream: Upstream
    tls: ssl.SSLContext | None = None

    def finish_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(5)
        with self.tls.wrap_socket(request, server_side=True) as tls_request:
            super().finish_request(tls_request, client_address)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # failed handshakes and hang-ups are what several tests provoke


def _serve(tls: ssl.SSLContext | None) -> Iterator[Upstream]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.tls = tls
    server.upstream = Upstream(server.server_address[1], "https" if tls else "http")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.upstream
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="session")
def upstream() -> Iterator[Upstream]:
    """A plain HTTP upstream on 127.0.0.1 (loopback: reachable only through the allow-list)."""
    yield from _serve(None)


@dataclass
class TlsUpstream:
    upstream: Upstream
    ca_pem: str


@pytest.fixture(scope="session")
def tls_upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsUpstream]:
    """The same routes over TLS, with a certificate for `tls.test` from a throwaway CA."""
    pytest.importorskip("cryptography")
    ca_pem, cert_pem, key_pem = _make_certificates("tls.test")
    directory = tmp_path_factory.mktemp("tls")
    (directory / "cert.pem").write_bytes(cert_pem)
    (directory / "key.pem").write_bytes(key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    for upstream in _serve(context):
        yield TlsUpstream(upstream, ca_pem.decode())


def _make_certificates(name: str) -> tuple[bytes, bytes, bytes]:
    """PEM of a CA certificate, and of a leaf certificate for `name` with its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, leaf_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "images-server test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())

    def build(
        subject: x509.Name, key: ec.EllipticCurvePrivateKey, ca: bool
    ) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), False
            )
        )

    ca_cert = (
        build(ca_name, ca_key, ca=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
        .sign(ca_key, hashes.SHA256())
    )
    leaf_subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    leaf_cert = (
        build(leaf_subject, leaf_key, ca=False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = leaf_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    pem = serialization.Encoding.PEM
    return ca_cert.public_bytes(pem), leaf_cert.public_bytes(pem), key_pem


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture(scope="module", autouse=True)
def _collect_leaks() -> Iterator[None]:
    """Collect garbage after each module, so a socket left unclosed in a reference cycle still
    raises its ResourceWarning (an error under the project's warning filter) in this run.
    Per test would be more precise but costs ~70 ms each."""
    yield
    gc.collect()


@pytest.fixture
def compare_digest_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bytes, bytes]]:
    """Every `hmac.compare_digest` call made during the test, still answered for real."""
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def recording(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", recording)
    return calls
