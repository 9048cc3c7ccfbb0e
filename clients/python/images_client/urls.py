"""Build images-server URLs from an image's hash and a pipeline of ops (docs/api.md §3).

Ops are written as the server reads them, unescaped (`resize/300x300^`, `("crop", "smart400x300")`);
this module escapes each op's argument for the URL: every byte but `A-Z a-z 0-9 - . _ ~ + @` is
percent-encoded with uppercase hex, so `!`, `^`, `%`, `>` and `<` become `%21`, `%5E`, `%25`,
`%3E` and `%3C` as the server expects. Query fields are encoded the same way, keeping only
`A-Z a-z 0-9 - . _ ~`. With a key the URL is signed (`images_client.signing`), which rewrites it
into the canonical form the server verifies. The JavaScript client builds the same bytes; the
shared vectors in `clients/vectors.json` hold both to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Union

from images_client.signing import sign_url

__all__ = [
    "Ops",
    "Query",
    "escape_arg",
    "format_arg",
    "image_path",
    "image_url",
    "op_pairs",
    "pipeline",
    "srcset",
    "width_ops",
]

Arg = Union[str, int, float]
Ops = Union[str, Sequence[tuple[str, Arg]], None]
Query = Union[Mapping[str, Arg], Sequence[tuple[str, Arg]], None]

HASH = re.compile(r"[0-9a-f]{64}")
_OP_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ARG_SAFE = _UNRESERVED | frozenset(b"+@")
MAX_WIDTH = 65535


def _encode(text: str, safe: frozenset[int]) -> str:
    return "".join(chr(byte) if byte in safe else f"%{byte:02X}" for byte in text.encode("utf-8"))


def escape_arg(arg: str) -> str:
    """An op's argument as it goes in the URL: `300x300^` is `300x300%5E`, `50%` is `50%25`."""
    return _encode(arg, _ARG_SAFE)


def format_arg(value: Arg) -> str:
    """An argument as text: strings as given, whole numbers without a decimal point (`2.0` is
    `2`, as JavaScript writes it), other numbers in their shortest round-trip form."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise TypeError(f"an op argument is a string or a number, not {value!r}")
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("an op argument must be a finite number")
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def op_pairs(ops: Ops) -> list[tuple[str, str]]:
    """`ops` as (name, argument) pairs, checked: a string `resize/300x/format/webp` is split at
    every `/`; a sequence holds (name, argument) pairs. Names are lowercase words; every op
    takes exactly one non-empty argument."""
    if ops is None:
        return []
    if isinstance(ops, str):
        text = ops.strip("/")
        if not text:
            return []
        parts = text.split("/")
        if len(parts) % 2:
            raise ValueError(f"every op takes one argument: {ops!r} has an odd number of parts")
        pairs: Iterable[tuple[str, Arg]] = zip(parts[::2], parts[1::2])
    else:
        pairs = ops
    checked: list[tuple[str, str]] = []
    for name, arg in pairs:
        text = format_arg(arg)
        if not isinstance(name, str) or not _OP_NAME.fullmatch(name):
            raise ValueError(f"bad op name {name!r}")
        if not text:
            raise ValueError(f"op {name!r} needs an argument")
        if "/" in text:
            raise ValueError(f"op {name!r}: an argument cannot hold '/' ({text!r})")
        checked.append((name, text))
    return checked


def pipeline(ops: Ops) -> str:
    """The URL path of `ops`, escaped: `resize/300x300%5E/format/webp`."""
    return "/".join(f"{name}/{escape_arg(arg)}" for name, arg in op_pairs(ops))


def _query_string(query: Query) -> str:
    if not query:
        return ""
    items = query.items() if isinstance(query, Mapping) else query
    return "&".join(
        f"{_encode(name, _UNRESERVED)}={_encode(format_arg(value), _UNRESERVED)}"
        for name, value in items
    )


def image_path(hash_: str, ops: Ops = None, query: Query = None) -> str:
    """`/image/<hash>[/<ops>][?<query>]`, unsigned. `hash_` is the lowercase hex SHA-256 the
    upload answered; anything else is a `ValueError` (the server would answer `404`)."""
    if not isinstance(hash_, str) or not HASH.fullmatch(hash_):
        raise ValueError(f"not an image hash (64 lowercase hex digits): {hash_!r}")
    path = f"/image/{hash_}"
    ops_path = pipeline(ops)
    if ops_path:
        path += "/" + ops_path
    query_string = _query_string(query)
    return f"{path}?{query_string}" if query_string else path


def _join(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


def image_url(
    hash_: str,
    ops: Ops = None,
    *,
    query: Query = None,
    base_url: str = "",
    key: str | bytes | None = None,
    expires_in: int | None = None,
    now: float | None = None,
) -> str:
    """The URL of an image through `ops`; signed when a `key` is given (valid `expires_in`
    seconds after `now`, unix seconds, default the current time)."""
    path = image_path(hash_, ops, query)
    if key is not None:
        path = sign_url(path, key, expires_in=expires_in, now=now)
    elif expires_in is not None:
        raise ValueError("expires_in needs a key: an expiry is part of the signature")
    return _join(base_url, path)


def _check_width(width: object) -> int:
    if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= MAX_WIDTH:
        raise ValueError(f"a width is a whole number of pixels from 1 to {MAX_WIDTH}: {width!r}")
    return width


def width_ops(
    ops: Ops,
    width: int,
    *,
    quality: int | None = None,
    format: str | None = None,
    enlarge: bool = True,
) -> list[tuple[str, str]]:
    """`ops`, then `resize/<width>x` (`resize/<width>x>` with `enlarge=False`: never wider than
    the original), then `quality/<q>` and `format/<f>` when given: one `srcset` candidate."""
    resize = f"{_check_width(width)}x{'' if enlarge else '>'}"
    pairs: list[tuple[str, Arg]] = [*op_pairs(ops), ("resize", resize)]
    if quality is not None:
        pairs.append(("quality", quality))
    if format is not None:
        pairs.append(("format", format))
    return op_pairs(pairs)


def srcset(
    hash_: str,
    widths: Iterable[int],
    ops: Ops = None,
    *,
    format: str | None = None,
    quality: int | None = None,
    enlarge: bool = True,
    query: Query = None,
    base_url: str = "",
    key: str | bytes | None = None,
    expires_in: int | None = None,
    now: float | None = None,
) -> str:
    """A `srcset` value: one `<url> <w>w` candidate per width, joined with `, `. Each URL is
    `ops` followed by `resize/<w>x` (`<w>x>` with `enlarge=False`), then `quality`, `format`;
    signed when a key is given."""
    candidates = []
    for width in widths:
        pipe = width_ops(ops, width, quality=quality, format=format, enlarge=enlarge)
        url = image_url(
            hash_, pipe, query=query, base_url=base_url, key=key, expires_in=expires_in, now=now
        )
        candidates.append(f"{url} {width}w")
    if not candidates:
        raise ValueError("a srcset needs at least one width")
    return ", ".join(candidates)
