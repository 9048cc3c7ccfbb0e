"""Every URL in clients/vectors.json is one the server accepts: its own route, pipeline parser and
signature verifier, and its own signer gives the same signature. Both clients must reproduce
the vectors byte for byte (test_python_client.py; clients/js/test/vectors.test.mjs)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from images_server.errors import InvalidSignature
from images_server.pipeline.ops import Op, Resize
from images_server.pipeline.parse import parse_op, parse_pipeline
from images_server.security.signing import sign, verify
from images_server.settings import Settings
from tests.clients.support import vectors

ROUTE = re.compile(r"/image/(?P<hash>[0-9a-f]{64})(?:/(?P<pipeline>.+))?")


def server_reads(url: str) -> tuple[list[Op], str, str]:
    """The ops the server would render for `url`, as its route and parser read them (the path
    percent-decoded once, then `?size=` and `?format=` after the path's ops), and the path
    and query as sent."""
    parts = urlsplit(url)
    match = ROUTE.fullmatch(parts.path)
    assert match is not None, url
    settings = Settings()
    ops = list(parse_pipeline(unquote(match["pipeline"] or ""), settings.max_ops, settings.presets))
    fields = dict(parse_qsl(parts.query, keep_blank_values=True))
    if "size" in fields:
        ops.extend(parse_op("preset", fields["size"], settings.presets))
    if "format" in fields:
        ops.extend(parse_op("format", fields["format"], settings.presets))
    return ops, parts.path, parts.query


def test_the_vectors_cover_every_op_and_escape() -> None:
    data = vectors()
    names = {type(op).__name__ for case in data["urls"] for op in server_reads(case["url"])[0]}
    assert {"Resize", "Crop", "Rotate", "Flip", "Format", "Quality", "Blur", "Sharpen"} <= names
    assert {"Filter", "Background", "Pad", "Dpr"} <= names
    urls = " ".join(case["url"] for case in data["urls"])
    for escape in ("%21", "%5E", "%25", "%3E", "%3C", "%2B", "%C3%A9"):
        assert escape in urls
    assert sum(case["key"] is not None for case in data["urls"]) >= 4


@pytest.mark.parametrize("case", vectors()["urls"], ids=lambda case: case["name"])
def test_every_url_vector_is_accepted(case: dict[str, Any]) -> None:
    ops, path, query = server_reads(case["url"])
    assert case["url"].startswith(case["base_url"].rstrip("/") + "/image/")
    assert ops or case["ops"] is None
    if case["key"] is None:
        assert "signature=" not in case["url"]
        return
    key = case["key"].encode("utf-8")
    expires = None if case["expires_in"] is None else int(case["now"] // 1) + case["expires_in"]
    now = 0 if case["now"] is None else case["now"]
    assert verify(path, query, [key], now) == expires
    unsigned = query.rsplit("signature=", 1)[0].rstrip("&")
    assert sign(path, unsigned, key, expires) == f"{path}?{query}"
    assert query.endswith("signature=" + case["signature"])
    with pytest.raises(InvalidSignature):  # and it covers every field
        verify(path, "x=1&" + query, [key], now)


@pytest.mark.parametrize("case", vectors()["srcsets"], ids=lambda case: case["name"])
def test_every_srcset_candidate_is_accepted(case: dict[str, Any]) -> None:
    candidates = case["srcset"].split(", ")
    assert [candidate.rsplit(" ", 1)[1] for candidate in candidates] == [
        f"{width}w" for width in case["widths"]
    ]
    for candidate in candidates:
        ops, path, query = server_reads(candidate.rsplit(" ", 1)[0])
        assert type(ops[-1]).__name__ == ("Format" if case["format"] else "Resize")
        if case["key"] is not None:
            expires = int(case["now"] // 1) + case["expires_in"]
            assert verify(path, query, [case["key"].encode()], case["now"]) == expires


@pytest.mark.parametrize("case", vectors()["next_loader"], ids=lambda case: case["name"])
def test_every_next_loader_url_is_accepted(case: dict[str, Any]) -> None:
    ops, _, _ = server_reads(case["url"])
    resize = [op for op in ops if isinstance(op, Resize)][-1]
    assert resize.geometry.width == case["width"]
    assert resize.geometry.flag == ("" if case["options"].get("enlarge") else ">")
