"""Warm hits sent by NGINX: `X-Accel-Redirect` to nginx/nginx.conf's internal `/_cache/`.

The shipped config marks `/image/` requests `X-Images-Accel: private`: a private image's hit
comes back from the app as headers and a redirect, and NGINX sends the cache file; a public
one comes whole, so NGINX's own proxy_cache still stores it. Only NGINX's static file module
answers byte ranges (`Accept-Ranges`, 206): the app never does, so they tell who sent a body.
"""

from __future__ import annotations

import os
from urllib.parse import quote

import requests

from tests.warm_hits.conftest import AUTH, Stack, accel_nginx


def get(url: str, **headers: str) -> requests.Response:
    return requests.get(url, headers=headers, timeout=30)


def sent_by_nginx(response: requests.Response) -> bool:
    return response.headers.get("Accept-Ranges") == "bytes"


def test_a_private_hit_is_the_cache_file_sent_by_nginx_with_the_apps_headers(
    stack: Stack,
) -> None:
    hash_ = stack.upload(public=False)
    path = f"/image/{hash_}/resize/30x/format/webp"
    miss = get(stack.url + path, **AUTH)
    assert miss.status_code == 200
    assert not sent_by_nginx(miss)  # rendered: the app's bytes
    entry = stack.entry(hash_)
    # What the app answers NGINX: headers, and where the file is
    told = get(stack.app.base + path, **AUTH, **{"X-Images-Accel": "private"})
    relative = entry.relative_to(stack.cache_dir).as_posix()
    assert told.headers["X-Accel-Redirect"] == f"/_cache/{relative}"
    assert told.content == b""

    hit = get(stack.url + path, **AUTH)
    assert hit.status_code == 200
    assert sent_by_nginx(hit)
    assert hit.content == miss.content == entry.read_bytes()
    assert hit.headers["Content-Type"] == "image/webp"
    assert hit.headers["Content-Length"] == str(entry.stat().st_size)
    assert hit.headers["ETag"] == miss.headers["ETag"] == told.headers["ETag"]  # ours
    assert hit.headers["Cache-Control"] == "private, no-cache"
    assert hit.headers["X-Content-Type-Options"] == "nosniff"
    assert hit.headers["X-Request-ID"]
    assert "X-Accel-Redirect" not in hit.headers
    assert "Last-Modified" not in hit.headers  # the file's mtime is its last use
    assert get(stack.url + path).status_code == 403  # nobody else's

    part = get(stack.url + path, **AUTH, Range="bytes=0-9")
    assert part.status_code == 206
    assert part.content == entry.read_bytes()[:10]

    # proxy_cache keeps If-None-Match from the app: NGINX answers it, with the app's ETag
    for etag in (hit.headers["ETag"], f"W/{hit.headers['ETag']}"):
        revalidated = get(stack.url + path, **AUTH, **{"If-None-Match": etag})
        assert revalidated.status_code == 304
        assert revalidated.content == b""
        assert revalidated.headers["ETag"] == hit.headers["ETag"]
        assert revalidated.headers["Cache-Control"] == "private, no-cache"
    assert get(stack.url + path, **AUTH, **{"If-None-Match": '"other"'}).status_code == 200
    head = requests.head(stack.url + path, headers=AUTH, timeout=30)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["Content-Length"] == str(entry.stat().st_size)
    assert head.headers["ETag"] == hit.headers["ETag"]


def test_negotiated_hits_keep_vary(stack: Stack) -> None:
    hash_ = stack.upload(public=False)
    url = f"{stack.url}/image/{hash_}/resize/30x/format/auto"
    accept = {"Accept": "image/webp,*/*", **AUTH}
    miss, hit = get(url, **accept), get(url, **accept)
    assert sent_by_nginx(hit)
    assert hit.content == miss.content
    assert hit.headers["Content-Type"] == "image/webp"
    assert hit.headers["Vary"] == miss.headers["Vary"] == "Accept"


def test_a_public_hit_still_fills_nginxs_proxy_cache(stack: Stack) -> None:
    hash_ = stack.upload()
    url = f"{stack.url}/image/{hash_}/resize/30x"
    assert get(url).headers["X-Cache-Status"] == "MISS"  # rendered by the app
    purged = requests.request("PURGE", f"{stack.purge_url}/image/{hash_}", timeout=30)
    assert purged.json() == {"purged": 1}  # NGINX's copy only: the app's cache still has it
    from_app_cache = get(url)
    assert from_app_cache.headers["X-Cache-Status"] == "MISS"
    assert not sent_by_nginx(from_app_cache)  # whole from the app, for NGINX to store
    again = get(url)
    assert again.headers["X-Cache-Status"] == "HIT"
    assert again.content == from_app_cache.content == stack.entry(hash_).read_bytes()


def test_a_purge_makes_the_next_request_a_render_again(stack: Stack) -> None:
    hash_ = stack.upload(public=False)
    url = f"{stack.url}/image/{hash_}/resize/30x"
    get(url, **AUTH)
    before = stack.root / f"{hash_}.before-purge"
    os.link(stack.entry(hash_), before)  # its inode stays taken: a new entry gets another
    assert sent_by_nginx(get(url, **AUTH))
    purged = requests.post(f"{stack.url}/image/{hash_}/purge", headers=AUTH, timeout=30)
    assert purged.status_code == 200, purged.text
    assert purged.json()["purged"]["result_cache"] == 1
    rendered = get(url, **AUTH)
    assert rendered.status_code == 200
    assert not sent_by_nginx(rendered)  # a miss: rendered and sent by the app
    assert stack.entry(hash_).stat().st_ino != before.stat().st_ino  # stored anew
    assert sent_by_nginx(get(url, **AUTH))
    deleted = requests.delete(f"{stack.url}/image/{hash_}", headers=AUTH, timeout=30)
    assert deleted.status_code == 200, deleted.text
    assert get(url, **AUTH).status_code == 404


def test_the_cache_location_is_not_reachable_from_outside(stack: Stack) -> None:
    hash_ = stack.upload(public=False)
    get(f"{stack.url}/image/{hash_}/resize/30x", **AUTH)
    relative = stack.entry(hash_).relative_to(stack.cache_dir).as_posix()
    for path in (f"/_cache/{relative}", "/_cache/", f"/_cache/../_cache/{relative}"):
        response = get(stack.url + path, **AUTH)
        assert response.status_code == 404, path
        assert not response.headers.get("Content-Type", "").startswith("image/")


def test_a_file_nginx_cannot_find_is_sent_by_the_app(stack: Stack) -> None:
    """Purged or evicted between the app's answer and NGINX's open (or a cache directory
    NGINX was not given): NGINX asks the app again, unmarked, and the app sends the bytes."""
    hash_ = stack.upload(public=False)
    path = f"/image/{hash_}/resize/30x"
    body = get(stack.url + path, **AUTH).content
    upstream = stack.app.base.removeprefix("http://")
    empty = stack.root / "not-the-cache"
    empty.mkdir()
    with accel_nginx(stack.root / "nginx-elsewhere", upstream, empty) as nginx:
        hit = get(nginx.url + path, **AUTH)
    assert hit.status_code == 200
    assert not sent_by_nginx(hit)
    assert hit.content == body == stack.entry(hash_).read_bytes()
    assert hit.headers["Cache-Control"] == "private, no-cache"
    assert "X-Accel-Redirect" not in hit.headers


def test_an_external_hit_is_sent_by_nginx_with_its_public_cache_control(stack: Stack) -> None:
    """`location /` caches nothing, so it marks requests `on`: public hits are sent by NGINX."""
    path = f"/external?url={quote(stack.photo_url, safe='')}&operations=resize/50x"
    miss = get(stack.url + path)
    assert miss.status_code == 200, miss.text
    assert not sent_by_nginx(miss)
    hit = get(stack.url + path)
    assert sent_by_nginx(hit)
    [entry] = (stack.cache_dir / "external").rglob("*.png")
    assert hit.content == miss.content == entry.read_bytes()
    for name in ("Content-Type", "ETag", "Cache-Control", "Content-Length"):
        assert hit.headers[name] == miss.headers[name], name
    assert hit.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert get(stack.url + path, **{"If-None-Match": hit.headers["ETag"]}).status_code == 304
