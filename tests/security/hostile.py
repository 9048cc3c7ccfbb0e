"""Hostile inputs shared by the address-policy and fetcher tests."""

LOOPBACK_IPV4_NOTATIONS = [
    "127.0.0.1",
    "2130706433",  # decimal
    "0177.0.0.1",  # octal
    "0x7f.0.0.1",  # hex
    "0x7F.0.0.1",
    "127.1",  # short form
    "127.0.1",
    "0x7f000001",
    "017700000001",
    "0x7f.1",
    "127.0.0.1.",  # trailing dot
]
