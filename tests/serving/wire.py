"""Raw HTTP/1.1 over a socket, for what `requests` will not send or cannot show: malformed
requests, slow clients, connections cut by the server."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def address(base: str) -> tuple[str, int]:
    parts = urlsplit(base)
    assert parts.hostname is not None
    assert parts.port is not None
    return parts.hostname, parts.port


def exchange(base: str, raw: bytes, timeout: float = 30) -> Reply:
    """Send `raw` as is and read the whole reply (the server closes the connection)."""
    with socket.create_connection(address(base), timeout=timeout) as sock:
        sock.sendall(raw)
        return read_reply(sock, timeout)


def read_reply(sock: socket.socket, timeout: float = 30) -> Reply:
    """One reply read to the end of its body (Content-Length) or of the connection."""
    deadline = time.monotonic() + timeout
    data = b""
    while b"\r\n\r\n" not in data:
        data += _recv(sock, deadline)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "-1"))
    while length < 0 or len(body) < length:
        chunk = _recv(sock, deadline, eof_ok=length < 0)
        if not chunk:
            break
        body += chunk
    return Reply(status, headers, body)


def _recv(sock: socket.socket, deadline: float, eof_ok: bool = False) -> bytes:
    sock.settimeout(max(0.01, deadline - time.monotonic()))
    chunk = sock.recv(65536)
    if not chunk and not eof_ok:
        raise ConnectionError("the server closed the connection before a full reply")
    return chunk
