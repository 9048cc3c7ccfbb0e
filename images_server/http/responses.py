"""Image responses with the HTTP semantics of SPEC §4.

A variant is a pure function of its URL, so it is public and immutable for a year, carries a
strong ETag, and answers a matching `If-None-Match` with 304 (werkzeug's conditional logic).
"""

from __future__ import annotations

from flask import Response, request

from images_server.render import Rendered

IMMUTABLE = "public, max-age=31536000, immutable"


def image_response(rendered: Rendered, vary_accept: bool = False) -> Response:
    response = Response(rendered.body, mimetype=rendered.media_type)
    response.set_etag(rendered.etag, weak=False)
    response.headers["Cache-Control"] = IMMUTABLE
    if vary_accept:
        response.headers["Vary"] = "Accept"
    response.make_conditional(request)  # turns itself into a 304 when the ETag matches
    return response
