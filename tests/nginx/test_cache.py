"""NGINX's response cache in front of the real app: hits, 304s, privacy, purge, Accept buckets.

Every test uploads its own image (distinct sizes make distinct hashes), so tests share the
stack without sharing cache entries. `X-Cache-Status` is NGINX's own `$upstream_cache_status`.
"""

from __future__ import annotations

import itertools

import requests

from images_server.formats.sniff import sniff
from tests.images import decode, quadrant_bytes
from tests.nginx.conftest import Stack

_sizes = itertools.count(41)


def upload(stack: Stack, public: bool = True) -> str:
    """A fresh JPEG uploaded through NGINX as alice; its hash."""
    data = quadrant_bytes(next(_sizes), 30, "jpeg")
    response = requests.post(
        f"{stack.url}/upload",
        files={"file": ("q.jpg", data)},
        data={"public": "true" if public else "false"},
        headers=stack.auth,
        timeout=30,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["url"] == f"{stack.url}/image/{body['hash']}"  # NGINX forwards Host
    return str(body["hash"])


def get(url: str, **headers: str) -> requests.Response:
    return requests.get(url, headers=headers, timeout=30)


def test_first_request_misses_then_hits(stack: Stack) -> None:
    url = f"{stack.url}/image/{upload(stack)}/resize/20x"
    first, second = get(url), get(url)
    assert first.status_code == second.status_code == 200
    assert first.headers["X-Cache-Status"] == "MISS"
    assert second.headers["X-Cache-Status"] == "HIT"
    assert second.content == first.content
    assert second.headers["ETag"] == first.headers["ETag"]
    assert decode(second.content).width == 20


def test_if_none_match_is_304_through_nginx(stack: Stack) -> None:
    url = f"{stack.url}/image/{upload(stack)}/flip/h"
    etag = get(url).headers["ETag"]
    cached = get(url, **{"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.headers["X-Cache-Status"] == "HIT"
    assert cached.content == b""
    assert get(url, **{"If-None-Match": '"other"'}).status_code == 200


def test_a_private_image_is_never_cached(stack: Stack) -> None:
    url = f"{stack.url}/image/{upload(stack, public=False)}/resize/20x"
    for _ in range(3):
        response = get(url, **stack.auth)
        assert response.status_code == 200
        assert response.headers["Cache-Control"].startswith("private")
        assert response.headers["X-Cache-Status"] == "MISS"
    anonymous = get(url)  # the 200s above left nothing a stranger could be served
    assert anonymous.status_code == 403
    assert anonymous.headers["X-Cache-Status"] == "MISS"
    assert get(url, **stack.auth).status_code == 200  # nor did the 403 stick


def test_delete_then_get_is_404_not_a_stale_hit(stack: Stack) -> None:
    image = f"{stack.url}/image/{upload(stack)}"
    for path in ("", "/resize/20x", "?size=thumb"):
        get(image + path)
        assert get(image + path).headers["X-Cache-Status"] == "HIT"
    deleted = requests.delete(image, headers=stack.auth, timeout=30)
    assert deleted.status_code == 200, deleted.text
    for path in ("", "/resize/20x", "?size=thumb"):
        for _ in range(2):  # and the 404 itself is not cached
            gone = get(image + path)
            assert gone.status_code == 404
            assert gone.headers["X-Cache-Status"] == "MISS"
            assert gone.json()["status"] == "error"


def test_purge_makes_the_next_request_a_miss(stack: Stack) -> None:
    image = f"{stack.url}/image/{upload(stack)}"
    urls = [image, f"{image}/resize/20x", f"{image}/format/auto", f"{image}/metadata"]
    for url in urls:
        get(url, Accept="image/webp")
        assert get(url, Accept="image/webp").headers["X-Cache-Status"] == "HIT"
    purged = requests.post(f"{image}/purge", headers=stack.auth, timeout=30)
    assert purged.status_code == 200, purged.text
    assert purged.json()["purged"]["nginx"] == len(urls)  # one entry each
    for url in urls:
        assert get(url, Accept="image/webp").headers["X-Cache-Status"] == "MISS"
        assert get(url, Accept="image/webp").headers["X-Cache-Status"] == "HIT"


def test_purge_is_not_reachable_on_the_public_port(stack: Stack) -> None:
    hash_ = upload(stack)
    url = f"{stack.url}/image/{hash_}"
    get(url)
    for method, path in (("PURGE", f"/_purge/image/{hash_}"), ("PURGE", f"/image/{hash_}")):
        response = requests.request(method, stack.url + path, timeout=30)
        assert response.status_code in (401, 404, 405)  # the app's answer, not a purge
    assert get(url).headers["X-Cache-Status"] == "HIT"


def test_metrics_are_served_by_the_app_but_not_through_the_public_port(stack: Stack) -> None:
    assert get(f"{stack.app_url}/metrics").status_code == 200
    public = get(f"{stack.url}/metrics")
    assert public.status_code == 404
    assert public.json()["code"] == "not_found"
    assert "images_http_requests_total" not in public.text


AVIF = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"  # Chrome
WEBP = "image/webp,*/*"
NEITHER = "image/png,image/*;q=0.8,*/*;q=0.5"
EXPECTED = {AVIF: "image/avif", WEBP: "image/webp", NEITHER: "image/jpeg"}
LOADERS = {"image/avif": "heifload", "image/webp": "webpload", "image/jpeg": "jpegload"}


def test_auto_format_gives_each_client_its_own_format_from_the_cache(stack: Stack) -> None:
    url = f"{stack.url}/image/{upload(stack)}/resize/20x/format/auto"
    first = {accept: get(url, Accept=accept) for accept in EXPECTED}
    for response in first.values():
        assert response.headers["X-Cache-Status"] == "MISS"  # each bucket its own entry
    for accept, media_type in EXPECTED.items():
        again = get(url, Accept=accept)
        assert again.headers["X-Cache-Status"] == "HIT"
        assert again.headers["Content-Type"] == media_type
        assert again.headers["Vary"] == "Accept"
        assert again.content == first[accept].content
        assert decode(again.content).get("vips-loader").startswith(LOADERS[media_type])
    assert len({response.content for response in first.values()}) == 3


def test_odd_accept_headers_share_their_bucket(stack: Stack) -> None:
    url = f"{stack.url}/image/{upload(stack)}/resize/20x?format=auto"
    same_buckets = {
        "image/avif": [AVIF, "image/webp, image/apng, IMAGE/AVIF , text/html"],
        "image/webp": [WEBP, "text/html, image/webp", "image/webp , image/png;q=0.9"],
        "image/jpeg": [NEITHER, "*/*", "", "image/avifx, image/webp2", "text/html"],
    }
    for media_type, headers in same_buckets.items():
        statuses = []
        for accept in headers:
            response = get(url, Accept=accept)
            assert response.headers["Content-Type"] == media_type, accept
            statuses.append(response.headers["X-Cache-Status"])
        assert statuses == ["MISS"] + ["HIT"] * (len(headers) - 1), media_type


SAFARI = "image/webp,image/avif,image/jxl,video/*;q=0.8,image/png,*/*;q=0.5"


def test_a_jxl_capable_client_never_shares_an_entry_with_one_that_is_not(stack: Stack) -> None:
    """The app lists `jxl,avif,webp` (conftest): Safari is given JPEG XL, and neither that
    entry nor a JPEG XL-only one is ever given to Chrome, Firefox or curl."""
    url = f"{stack.url}/image/{upload(stack)}/resize/20x/format/auto"
    buckets = {
        "image/jxl": [SAFARI, "image/avif, IMAGE/JXL ,image/webp"],
        "image/avif": [AVIF, "image/webp,image/avif"],
        "image/jpeg": ["*/*", "image/jxl2, image/jpeg"],
    }
    for media_type, headers in buckets.items():
        statuses = []
        for accept in headers:
            response = get(url, Accept=accept)
            assert response.headers["Content-Type"] == media_type, accept
            assert response.headers["Vary"] == "Accept"
            statuses.append(response.headers["X-Cache-Status"])
        assert statuses == ["MISS", "HIT"], media_type
    only_jxl = get(url, Accept="image/jxl")  # a bucket of its own, not Safari's
    assert only_jxl.headers["X-Cache-Status"] == "MISS"
    assert only_jxl.headers["Content-Type"] == "image/jxl"
    assert sniff(only_jxl.content).format == "jxl"
    for accept, media_type in (
        ("image/jxl;q=0.5, image/avif", "image/avif"),  # a q-value: keyed on the raw header
        ("image/jxl;q=0, image/webp", "image/webp"),
        ("image/jxl, image/avif;q=0.9", "image/jxl"),
    ):
        for _ in range(2):
            response = get(url, Accept=accept)
            assert response.headers["Content-Type"] == media_type, accept


def test_q_values_are_honoured_not_guessed(stack: Stack) -> None:
    url = f"{stack.url}/image/{upload(stack)}/resize/20x/format/auto"
    get(url, Accept=AVIF)  # an AVIF entry exists; none of these may be given it
    for accept, media_type in (
        ("image/avif;q=0, image/webp", "image/webp"),
        ("image/avif;q=0.5, image/webp;q=0.9", "image/webp"),
        ("image/avif;q=0, image/webp;q=0", "image/jpeg"),
        ("image/webp;q=0.9, image/avif;q=0.9", "image/avif"),
    ):
        for _ in range(2):
            response = get(url, Accept=accept)
            assert response.headers["Content-Type"] == media_type, accept


def test_uploads_up_to_the_app_limit_pass_nginx(stack: Stack) -> None:
    junk = b"\x00" * 26_000_000  # over the app's 25 MB: the app's own JSON 413
    response = requests.post(
        f"{stack.url}/upload",
        data=junk,
        headers={"Content-Type": "image/jpeg", **stack.auth},
        timeout=60,
    )
    assert response.status_code == 413
    assert response.json()["code"] == "upload_too_large"
    assert "X-Cache-Status" not in response.headers
    huge = requests.post(
        f"{stack.url}/upload",
        data=b"\x00" * 32_000_000,  # over NGINX's own cap: its JSON 413, same shape
        headers={"Content-Type": "image/jpeg", **stack.auth},
        timeout=60,
    )
    assert huge.status_code == 413
    assert huge.json()["code"] == "upload_too_large"
