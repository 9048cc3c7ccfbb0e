"""Unit tests of the address policy: which IPs are forbidden, host normalisation, allow-lists.

Nothing here opens a socket; the public addresses in the tables are only classified.
"""

from __future__ import annotations

import ipaddress

import pytest

from images_server.errors import BadRequest, ForbiddenAddress
from images_server.security.addresses import (
    ALLOW_SETTING,
    AllowList,
    check_destination,
    embedded_ipv4,
    is_forbidden,
    normalise_host,
    parse_legacy_ipv4,
)
from images_server.settings import Settings
from tests.security.hostile import LOOPBACK_IPV4_NOTATIONS

FORBIDDEN = [
    "127.0.0.1",  # loopback
    "127.255.255.254",
    "10.1.2.3",  # private
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # link-local: the cloud metadata endpoint
    "100.64.0.1",  # shared address space (carrier-grade NAT)
    "0.0.0.0",  # noqa: S104 - classified, never bound; unspecified reaches the local host
    "0.1.2.3",
    "224.0.0.1",  # multicast
    "240.0.0.1",  # reserved
    "255.255.255.255",  # broadcast
    "192.0.2.1",  # documentation
    "198.18.0.1",  # benchmarking
    "::1",
    "::",
    "fe80::1",  # link-local
    "fec0::1",  # site-local
    "fc00::1",  # unique-local
    "fd12:3456::1",
    "ff02::1",  # multicast
    "ff0e::1",  # global-scope multicast is still multicast
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "::ffff:8.8.8.8",  # mapped is refused even for a public IPv4
    "::127.0.0.1",  # IPv4-compatible (deprecated)
    "::8.8.8.8",
    "2002:7f00:1::1",  # 6to4 of loopback
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "64:ff9b::7f00:1",  # NAT64 of loopback
    "64:ff9b::a9fe:a9fe",  # NAT64 of the metadata endpoint
    "64:ff9b:1::1",  # local-use NAT64
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "2001:db8::1",  # documentation
    "100::1",  # discard-only
]

ALLOWED = [
    "8.8.8.8",
    "93.184.216.34",
    "1.1.1.1",
    "2606:4700:4700::1111",
    "2a00:1450:4001::200e",
    "2002:808:808::1",  # 6to4 of a public IPv4
    "64:ff9b::808:808",  # NAT64 of a public IPv4 (DNS64 networks need it)
]


@pytest.mark.parametrize("address", FORBIDDEN)
def test_forbidden_addresses(address: str) -> None:
    assert is_forbidden(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address: str) -> None:
    assert not is_forbidden(ipaddress.ip_address(address))


def test_scoped_ipv6_is_forbidden() -> None:
    assert is_forbidden(ipaddress.IPv6Address("2606:4700:4700::1111%eth0"))


@pytest.mark.parametrize(
    ("address", "inner"),
    [
        ("::ffff:127.0.0.1", "127.0.0.1"),
        ("2002:7f00:1::1", "127.0.0.1"),
        ("64:ff9b::7f00:1", "127.0.0.1"),
        ("::10.0.0.1", "10.0.0.1"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "192.0.2.45"),
        ("2606:4700:4700::1111", None),
    ],
)
def test_embedded_ipv4(address: str, inner: str | None) -> None:
    found = embedded_ipv4(ipaddress.IPv6Address(address))
    assert (str(found) if found else None) == inner


@pytest.mark.parametrize("host", LOOPBACK_IPV4_NOTATIONS)
def test_odd_ipv4_notations_normalise_to_loopback(host: str) -> None:
    assert normalise_host(host) == "127.0.0.1"


@pytest.mark.parametrize(
    "host", ["256.0.0.1", "1.2.3.4.5", "0x100.0.0.1", "08.0.0.1", "1.2.3.999", "example.123"]
)
def test_invalid_ipv4_is_refused_not_resolved(host: str) -> None:
    with pytest.raises(BadRequest):
        normalise_host(host)


@pytest.mark.parametrize("host", ["example.com", "images.example", "a-b.c_d.test", "x"])
def test_names_are_not_ipv4(host: str) -> None:
    assert parse_legacy_ipv4(host) is None
    assert normalise_host(host.upper() + ".") == host


@pytest.mark.parametrize("host", ["", ".", "a..b", "-a.com", "a-.com", "a b.com", "a/b", "a" * 64])
def test_bad_host_names(host: str) -> None:
    with pytest.raises(BadRequest):
        normalise_host(host)


def test_ipv6_hosts() -> None:
    assert normalise_host("0:0:0:0:0:0:0:1") == "::1"
    assert normalise_host("::FFFF:7F00:1") == "::ffff:7f00:1"
    with pytest.raises(ForbiddenAddress):
        normalise_host("fe80::1%eth0")
    with pytest.raises(BadRequest):
        normalise_host("::1::2")


def test_allow_list_parsing() -> None:
    allow = AllowList.parse(
        ["Images.Internal", "minio:9000", "127.1:8080", "[::1]:8081", "fd00::7", "10.0.0.0/8"]
    )
    assert allow.names == {
        ("images.internal", None),
        ("minio", 9000),
        ("127.0.0.1", 8080),
        ("::1", 8081),
        ("fd00::7", None),
    }
    assert allow.networks == (ipaddress.ip_network("10.0.0.0/8"),)


@pytest.mark.parametrize("entry", ["host:0", "host:99999", "host:abc", "a..b", "10.0.0.0/33"])
def test_allow_list_rejects_bad_entries(entry: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        AllowList.parse([entry])


def _ips(*addresses: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    return [ipaddress.ip_address(address) for address in addresses]


def test_check_destination_refuses_any_forbidden_answer() -> None:
    empty = AllowList()
    check_destination("good.test", 80, _ips("93.184.216.34"), empty)
    with pytest.raises(ForbiddenAddress):
        check_destination("evil.test", 80, _ips("10.0.0.1"), empty)
    with pytest.raises(ForbiddenAddress):
        check_destination("evil.test", 80, _ips("93.184.216.34", "127.0.0.1"), empty)


def test_check_destination_name_entries_honour_the_port() -> None:
    allow = AllowList.parse(["127.0.0.1:8080", "minio"])
    check_destination("127.0.0.1", 8080, _ips("127.0.0.1"), allow)
    check_destination("minio", 9000, _ips("172.18.0.5"), allow)
    with pytest.raises(ForbiddenAddress):
        check_destination("127.0.0.1", 8081, _ips("127.0.0.1"), allow)


def test_check_destination_cidr_entries_match_every_resolved_ip() -> None:
    allow = AllowList.parse(["127.0.0.1/32", "::1/128"])
    check_destination("local.test", 1, _ips("127.0.0.1", "::1", "8.8.8.8"), allow)
    with pytest.raises(ForbiddenAddress):
        check_destination("local.test", 1, _ips("127.0.0.1", "127.0.0.2"), allow)
    with pytest.raises(ForbiddenAddress):
        check_destination("local.test", 1, _ips("::ffff:127.0.0.1"), allow)


def _refusal(host: str, port: int, ips: list[str], allow: AllowList) -> str:
    with pytest.raises(ForbiddenAddress) as caught:
        check_destination(host, port, _ips(*ips), allow)
    assert caught.value.status == 403
    return caught.value.message


def test_a_refusal_names_the_setting_that_allows_it() -> None:
    assert ALLOW_SETTING.removeprefix("IMAGES_").lower() in Settings.model_fields
    assert ALLOW_SETTING == "IMAGES_EXTERNAL_ALLOW_HOSTS"
    assert _refusal("127.0.0.1", 22, ["127.0.0.1"], AllowList()) == (
        "refusing to fetch 127.0.0.1: it is not a public address"
        " (allow it with IMAGES_EXTERNAL_ALLOW_HOSTS)"
    )
    assert _refusal("::1", 22, ["::1"], AllowList()).startswith(
        "refusing to fetch ::1: it is not a public address (allow it with "
    )


def test_a_refused_name_names_the_address_that_is_not_allowed() -> None:
    message = _refusal("localhost", 8765, ["127.0.0.1", "::1"], AllowList.parse(["127.0.0.1"]))
    assert message == (
        "refusing to fetch localhost: it resolves to ::1, which is not a public address"
        " (allow it with IMAGES_EXTERNAL_ALLOW_HOSTS)"
    )


def test_an_address_entry_allows_a_name_resolving_only_to_it_on_its_port() -> None:
    allow = AllowList.parse(["127.0.0.1:8765"])
    check_destination("localhost", 8765, _ips("127.0.0.1"), allow)
    check_destination("127.0.0.1", 8765, _ips("127.0.0.1"), allow)
    assert "resolves to 127.0.0.1" in _refusal("localhost", 8766, ["127.0.0.1"], allow)
    assert "resolves to 127.0.0.2" in _refusal("loop.test", 8765, ["127.0.0.2"], allow)
    # every answer must be allowed: one more private address is enough to refuse
    assert "resolves to ::1" in _refusal("localhost", 8765, ["127.0.0.1", "::1"], allow)
    assert "resolves to 10.0.0.1" in _refusal("mixed.test", 8765, ["10.0.0.1", "127.0.0.1"], allow)
    # the IPv4 address reached through IPv6 is another address, refused as the CIDR entry does
    assert "::ffff:7f00:1" in _refusal("mapped.test", 8765, ["::ffff:127.0.0.1"], allow)
    both = AllowList.parse(["127.0.0.1:8765", "[::1]:8765"])
    check_destination("localhost", 8765, _ips("127.0.0.1", "::1"), both)


def test_an_address_entry_without_a_port_allows_every_port() -> None:
    allow = AllowList.parse(["10.0.0.5", "fd00::7"])
    check_destination("bucket.internal", 9000, _ips("10.0.0.5"), allow)
    check_destination("bucket.internal", 443, _ips("10.0.0.5", "fd00::7"), allow)
    check_destination("bucket.internal", 443, _ips("10.0.0.5", "93.184.216.34"), allow)
    _refusal("bucket.internal", 443, ["10.0.0.6"], allow)


def test_a_name_entry_allows_only_that_name() -> None:
    allow = AllowList.parse(["images.internal"])
    check_destination("images.internal", 80, _ips("10.0.0.5", "127.0.0.1"), allow)
    assert "resolves to 10.0.0.5" in _refusal("other.internal", 80, ["10.0.0.5"], allow)
    assert "it is not" in _refusal("10.0.0.5", 80, ["10.0.0.5"], allow)
