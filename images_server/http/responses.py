"""Image responses with the HTTP semantics of docs/api.md §4.

A variant is a pure function of its URL, so it is public and immutable for a year, carries a
strong ETag, and answers a matching `If-None-Match` with 304 (werkzeug's conditional logic).
A private image's variants are `private, no-cache`: kept by no shared cache.
"""

from __future__ import annotations

from flask import Response, request

from images_server.render import Rendered

IMMUTABLE = "public, max-age=31536000, immutable"
PRIVATE = "private, no-cache"  # never in a shared cache; the browser revalidates (304)


def image_response(rendered: Rendered, vary_accept: bool = False, public: bool = True) -> Response:
    response = Response(rendered.body, mimetype=rendered.media_type)
    response.set_etag(rendered.etag, weak=False)
    response.headers["Cache-Control"] = IMMUTABLE if public else PRIVATE
    if vary_accept:
        response.headers["Vary"] = "Accept"
    response.make_conditional(request)  # turns itself into a 304 when the ETag matches
    return response
