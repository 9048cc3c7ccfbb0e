"""The address policy of the `/external` fetcher: which hosts and IPs may be contacted.

A URL's host is first turned into either a canonical IP literal (IPv4 in any notation the OS
resolver accepts — decimal `2130706433`, octal `0177.0.0.1`, hex `0x7f.1`, short `127.1` — is
normalised here so it cannot slip past as a "name") or a lowercase ASCII host name. Every IP
the fetcher would connect to is then checked by `is_forbidden`: anything that is not plainly a
public unicast address is refused, including IPv6 forms that embed a forbidden IPv4 address
(mapped, compatible, 6to4, Teredo, NAT64). An operator `AllowList` (`host`, `host:port` or
CIDR entries) re-admits chosen private destinations, such as an internal image bucket: a name
entry by the URL's host, an address or CIDR entry by every address the host resolves to.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from images_server.errors import BadRequest, ForbiddenAddress

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?")
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")
_NAT64 = IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = IPv6Network("64:ff9b:1::/48")


def parse_legacy_ipv4(host: str) -> IPv4Address | None:
    """Read `host` as an IPv4 address the way inet_aton does, or None when it is a name.

    Following the WHATWG URL rule, a host whose last label is numeric is an IPv4 address and
    must parse as one: `example.123` or `256.0.0.1` are refused rather than sent to DNS.
    """
    labels = host.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()
    if not _NUMERIC_LABEL.fullmatch(labels[-1]):
        return None
    if len(labels) > 4:
        raise BadRequest(f"{host!r} is not a valid IPv4 address")
    try:
        numbers = [_parse_ipv4_number(label) for label in labels]
    except ValueError:
        raise BadRequest(f"{host!r} is not a valid IPv4 address") from None
    *head, last = numbers
    if any(number > 255 for number in head) or last >= 256 ** (5 - len(numbers)):
        raise BadRequest(f"{host!r} is not a valid IPv4 address")
    value = last
    for index, number in enumerate(head):
        value += number << (8 * (3 - index))
    return IPv4Address(value)


def _parse_ipv4_number(label: str) -> int:
    if label.startswith("0x"):
        return int(label[2:] or "0", 16)
    if len(label) > 1 and label.startswith("0"):
        return int(label[1:], 8)
    return int(label, 10)


def normalise_host(host: str) -> str:
    """Return `host` (already IDNA-encoded ASCII) as a canonical IP literal or a lowercase name.

    Raises BadRequest for something that is neither, and ForbiddenAddress for an IPv6 zone id
    (`fe80::1%eth0`), which names an interface rather than an address.
    """
    host = host.lower()
    if ":" in host:
        if "%" in host:
            raise ForbiddenAddress("IPv6 zone ids may not be fetched")
        try:
            return IPv6Address(host).compressed
        except ValueError:
            raise BadRequest(f"{host!r} is not a valid IPv6 address") from None
    legacy = parse_legacy_ipv4(host)
    if legacy is not None:
        return str(legacy)
    name = host.removesuffix(".")
    if not 0 < len(name) <= 253 or not all(_LABEL.fullmatch(label) for label in name.split(".")):
        raise BadRequest(f"{host!r} is not a valid host name")
    return name


def ip_literal(host: str) -> IPAddress | None:
    """The address a normalised host names literally, or None for a DNS name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def embedded_ipv4(ip: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo client, NAT64, compat)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64 or int(ip) >> 32 == 0:
        return IPv4Address(int(ip) & 0xFFFF_FFFF)
    return None


def is_forbidden(ip: IPAddress) -> bool:
    """True unless `ip` is a public unicast address that is safe to connect to."""
    if isinstance(ip, IPv6Address):
        # Mapped and compatible forms reach IPv4 hosts through the v6 stack; no reason to allow.
        if ip.scope_id is not None or ip.ipv4_mapped is not None or int(ip) >> 32 == 0:
            return True
        if ip.is_site_local or ip in _NAT64_LOCAL:
            return True
        if ip in _NAT64:  # ipaddress calls all of ::/8 reserved; NAT64 is as safe as its IPv4
            return is_forbidden(IPv4Address(int(ip) & 0xFFFF_FFFF))
        inner = embedded_ipv4(ip)
        if inner is not None and is_forbidden(inner):
            return True
    return (
        not ip.is_global
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


@dataclass(frozen=True)
class AllowList:
    """Operator exceptions to `is_forbidden`: host names (optionally per port) and networks."""

    names: frozenset[tuple[str, int | None]] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        """Build from `host`, `host:port`, `[v6]:port`, `v6` or CIDR entries (ValueError if bad)."""
        names: set[tuple[str, int | None]] = set()
        networks: list[IPNetwork] = []
        for entry in (raw.strip() for raw in entries):
            if "/" in entry:
                networks.append(ipaddress.ip_network(entry, strict=False))
            else:
                names.add(_parse_name_entry(entry))
        return cls(frozenset(names), tuple(networks))

    def allows_name(self, host: str, port: int) -> bool:
        return (host, None) in self.names or (host, port) in self.names

    def allows_ip(self, ip: IPAddress, port: int) -> bool:
        """True when a CIDR entry holds `ip`, or an address entry names it (and this port)."""
        if self.allows_name(str(ip), port):
            return True
        return any(ip.version == network.version and ip in network for network in self.networks)


def _parse_name_entry(entry: str) -> tuple[str, int | None]:
    host, port = entry, ""
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest.removeprefix(":")
    elif entry.count(":") == 1:
        host, _, port = entry.partition(":")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"allow-list entry {entry!r} has a bad port")
    try:
        canonical = normalise_host(host.encode("idna").decode("ascii"))
    except (UnicodeError, BadRequest, ForbiddenAddress):
        raise ValueError(f"allow-list entry {entry!r} is not a host, host:port or CIDR") from None
    return canonical, int(port) if port else None


ALLOW_SETTING = "IMAGES_EXTERNAL_ALLOW_HOSTS"


def check_destination(host: str, port: int, ips: list[IPAddress], allow: AllowList) -> None:
    """Raise ForbiddenAddress unless every address `host` resolved to may be contacted.

    A name entry allows its name whatever it resolves to; an address or CIDR entry allows any
    name whose every address it covers, so `127.0.0.1:8765` also admits `localhost:8765`.
    """
    if allow.allows_name(host, port):
        return
    for ip in ips:
        if is_forbidden(ip) and not allow.allows_ip(ip, port):
            raise ForbiddenAddress(_refusal(host, ip))


def _refusal(host: str, ip: IPAddress) -> str:
    where = "it is" if host == str(ip) else f"it resolves to {ip}, which is"
    return f"refusing to fetch {host}: {where} not a public address (allow it with {ALLOW_SETTING})"
