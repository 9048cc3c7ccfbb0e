"""Absolute URLs the API hands out (docs/api.md §4): on the CDN when one is configured.

`public_url("/image/<hash>")` is `IMAGES_CDN_BASE_URL` + path when that is set (a path in the
base, such as `https://cdn.example.com/media`, is kept), else the request's own host, so a
client behind NGINX gets NGINX's address (NGINX forwards `Host`).
"""

from __future__ import annotations

from flask import request

from images_server.http import services


def public_url(path: str) -> str:
    """`path` (starting with `/`) made absolute on the CDN, or on this request's host."""
    base = services().settings.cdn_base_url or request.host_url
    return base.rstrip("/") + path
