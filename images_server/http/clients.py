"""Who is asking: the client identity that rate limits count against.

The peer address, or, behind `trusted_proxies` = N proxies, the Nth entry from the right of
`X-Forwarded-For`: each trusted proxy appends the address it saw, so that entry was written by
the outermost trusted proxy and everything left of it may be forged by the client. With N = 0
the header is never read. With fewer entries than N (the request skipped a proxy) or an entry
that is not an address, the peer address is used, as werkzeug's `ProxyFix` does.

IPv6 addresses are grouped by /64, the block one host or home line usually holds, so a client
cannot rotate through its prefix for fresh limits. IPv4-mapped IPv6 counts as its IPv4.
"""

from __future__ import annotations

import functools
import ipaddress

from flask import Request

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_UNKNOWN = "unknown"
_MAX_OPAQUE = 64  # a peer that is not an IP (a unix socket) is kept, but bounded, as a key


def _parse_address(text: str) -> IPAddress | None:
    """An address, also from the `1.2.3.4:port` and `[v6]:port` forms some proxies write."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _group(address: IPAddress) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        prefix = ipaddress.IPv6Address(int(address) >> 64 << 64)
        return f"{prefix}/64"
    return str(address)


def _forwarded(request: Request, trusted_proxies: int) -> IPAddress | None:
    if trusted_proxies < 1:
        return None
    entries = ",".join(request.headers.getlist("X-Forwarded-For")).split(",")
    if not any(entry.strip() for entry in entries) or len(entries) < trusted_proxies:
        return None
    return _parse_address(entries[-trusted_proxies])


def client_id(request: Request, trusted_proxies: int) -> str:
    """The key a request's rate limits count against (an address, or an IPv6 /64)."""
    address = _forwarded(request, trusted_proxies)
    if address is None:
        return _peer_key(request.remote_addr or "")
    return _group(address)


@functools.lru_cache(maxsize=4096)  # the same few peers ask again and again (a proxy: one)
def _peer_key(peer: str) -> str:
    address = _parse_address(peer)
    if address is None:
        return peer[:_MAX_OPAQUE] or _UNKNOWN
    return _group(address)
