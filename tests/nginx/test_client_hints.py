"""Client hints through real NGINX: its maps give the app's buckets, and its cache keys on them.

The maps in nginx/nginx.conf are checked value by value against images_server/pipeline/hints.py
through an extra server block that echoes them; then the cache of the real stack is shown to
share one entry per bucket, to split across buckets, and to leave other URLs' keys alone.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest
import requests

from images_server.pipeline.hints import (
    DEFAULT_WIDTHS,
    dpr_bucket,
    parse_dpr,
    parse_width,
    width_bucket,
)
from tests.images import decode, quadrant_bytes
from tests.nginx.conftest import Stack
from tests.nginx.server import run_nginx
from tests.servers import free_port

_widths = itertools.count(2001)
ECHO = "$images_hint_dpr;$images_hint_width;$images_hint_viewport;$images_save_data"


def _app_width(text: str) -> str:
    width = parse_width(text)
    return "" if width is None else str(width_bucket(width, DEFAULT_WIDTHS))


def _app_dpr(text: str) -> str:
    value = parse_dpr(text)
    return "" if value is None else f"{dpr_bucket(value):g}"


@pytest.fixture(scope="module")
def echo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., list[str]]]:
    """The production maps' values for a request's headers: dpr, width, viewport, save-data
    and the key's hint part, from a server block that only echoes them."""
    port = free_port()
    extra = f"""
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "{ECHO};$images_key_hints"; }}
    }}"""
    prefix = tmp_path_factory.mktemp("nginx-echo")
    with run_nginx(prefix, "127.0.0.1:9", extra=extra, access_log=False), requests.Session() as s:

        def values(path: str = "/image/x/resize/auto", **headers: str) -> list[str]:
            url = f"http://127.0.0.1:{port}{path}"
            return s.get(url, headers=headers, timeout=10).text.split(";")

        yield values


def test_nginx_rounds_widths_as_the_app_does(echo: Callable[..., list[str]]) -> None:
    widths = {str(n) for n in range(0, 340)} | {str(n) for n in range(0, 5000, 7)}
    widths |= {str(b + d) for b in DEFAULT_WIDTHS for d in (-1, 0, 1)}
    widths |= {"0700", "007", "00", "7.5", "-3", "abc", "99999999"}
    for text in sorted(widths):
        values = echo(**{"Sec-CH-Width": text, "Sec-CH-Viewport-Width": text})
        assert values[1:3] == [_app_width(text), _app_width(text)], text


def test_nginx_rounds_dprs_as_the_app_does(echo: Callable[..., list[str]]) -> None:
    dprs = ["1", "1.0", "0.5", "0", "0.0", "1.01", "1.25", "1.5", "1.50", "1.5001", "1.75",
            "2", "2.0", "2.0001", "2.625", "3", "3.0", "3.5", "10", "x", "-1", "01.5",
            "1.100000023841858"]  # fmt: skip
    for text in dprs:
        assert echo(**{"Sec-CH-DPR": text})[0] == _app_dpr(text), text
        assert echo(DPR=text)[0] == _app_dpr(text), text
    assert echo(**{"Sec-CH-DPR": "3", "DPR": "1"})[0] == "3"  # the standard header first
    for text, value in (("on", "on"), ("ON", "on"), ("off", ""), ("onn", "")):
        assert echo(**{"Save-Data": text})[3] == value


def test_nginx_keys_hints_only_where_they_can_matter(echo: Callable[..., list[str]]) -> None:
    assert echo()[4] == ""  # no hints: the key is the one it always was
    hinted = {"Sec-CH-Width": "700", "Save-Data": "on"}
    assert echo(**hinted)[4] == "|ch=,800,,on"
    assert echo("/image/x/dpr/auto", **{"Sec-CH-DPR": "2"})[4] == "|ch=2,,,"
    assert echo("/image/x?size=hero-auto", **hinted)[4] == "|ch=,800,,on"
    for path in ("/image/x/resize/20x/format/auto", "/image/x?size=thumb", "/image/x"):
        assert echo(path, **hinted)[4] == "", path


def _upload(stack: Stack) -> str:
    data = quadrant_bytes(next(_widths), 40, "jpeg")
    response = requests.post(
        f"{stack.url}/upload", files={"file": ("q.jpg", data)}, headers=stack.auth, timeout=30
    )
    assert response.status_code == 201, response.text
    return str(response.json()["hash"])


def get(url: str, **headers: str) -> requests.Response:
    response = requests.get(url, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return response


def _status(response: requests.Response) -> str:
    return response.headers["X-Cache-Status"]


def test_widths_in_one_bucket_share_an_entry(stack: Stack) -> None:
    url = f"{stack.url}/image/{_upload(stack)}/resize/auto"
    first = get(url, **{"Sec-CH-Width": "700"})
    second = get(url, **{"Sec-CH-Width": "750"})
    assert (_status(first), _status(second)) == ("MISS", "HIT")
    assert second.content == first.content
    assert decode(second.content).width == 800
    assert second.headers["Vary"] == "Sec-CH-Width, Sec-CH-Viewport-Width, Save-Data"
    assert second.headers["Accept-CH"] == "Sec-CH-DPR, Sec-CH-Width, Sec-CH-Viewport-Width"
    wider = get(url, **{"Sec-CH-Width": "1300"})
    assert _status(wider) == "MISS"  # another bucket, another entry
    assert decode(wider.content).width == 1600
    assert _status(get(url, **{"Sec-CH-Width": "1500"})) == "HIT"
    assert _status(get(url, **{"Sec-CH-Width": "700", "Sec-CH-DPR": "2"})) == "MISS"  # dpr keyed


def test_without_hints_the_fallback_width_is_its_own_entry(stack: Stack) -> None:
    url = f"{stack.url}/image/{_upload(stack)}/resize/auto"
    get(url, **{"Sec-CH-Width": "1200"})  # 1280, hinted: another key
    fallback = get(url)
    assert _status(fallback) == "MISS"
    assert decode(fallback.content).width == 1280  # IMAGES_CLIENT_HINTS_FALLBACK_WIDTH
    assert _status(get(url)) == "HIT"
    assert _status(get(url, **{"Sec-CH-Width": "0", "Save-Data": "off"})) == "HIT"


def test_dpr_buckets_and_the_legacy_header_share_entries(stack: Stack) -> None:
    url = f"{stack.url}/image/{_upload(stack)}/dpr/auto/resize/100x"
    first = get(url, **{"Sec-CH-DPR": "1.8"})
    assert _status(first) == "MISS"
    assert decode(first.content).width == 200
    assert _status(get(url, **{"Sec-CH-DPR": "2"})) == "HIT"
    assert _status(get(url, DPR="2.0")) == "HIT"
    third = get(url, **{"Sec-CH-DPR": "2.625"})
    assert (_status(third), decode(third.content).width) == ("MISS", 300)


def test_save_data_is_keyed_and_lowers_the_quality(stack: Stack) -> None:
    url = f"{stack.url}/image/{_upload(stack)}/resize/auto"
    normal = get(url, **{"Sec-CH-Width": "700"})
    saving = get(url, **{"Sec-CH-Width": "700", "Save-Data": "on"})
    assert _status(saving) == "MISS"
    assert len(saving.content) < len(normal.content)
    assert _status(get(url, **{"Sec-CH-Width": "800", "Save-Data": "ON"})) == "HIT"


def test_a_hinted_preset_is_keyed_by_its_name(stack: Stack) -> None:
    image = f"{stack.url}/image/{_upload(stack)}"
    for path in ("/preset/hero-auto", "?size=hero-auto"):
        first = get(image + path, **{"Sec-CH-Width": "300"})
        assert (_status(first), decode(first.content).width) == ("MISS", 320)
        assert _status(get(image + path, **{"Sec-CH-Width": "310"})) == "HIT"
        other = get(image + path, **{"Sec-CH-Width": "900"})
        assert (_status(other), decode(other.content).width) == ("MISS", 1024)


def test_other_urls_keep_their_key_whatever_the_hints(stack: Stack) -> None:
    image = f"{stack.url}/image/{_upload(stack)}"
    for path in ("/resize/20x", "/resize/20x/format/auto", "?size=thumb"):
        assert _status(get(image + path)) == "MISS"
        for hints in ({"Sec-CH-Width": "700"}, {"Sec-CH-DPR": "3"}, {"Save-Data": "on"}):
            response = get(image + path, **hints)
            assert _status(response) == "HIT", (path, hints)
            assert "Sec-CH" not in response.headers.get("Vary", "")
