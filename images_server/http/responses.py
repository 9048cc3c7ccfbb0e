"""Image responses with the HTTP semantics of docs/api.md §4.

A variant is a pure function of its URL, so it is public and immutable for a year, carries a
strong ETag, and answers a matching `If-None-Match` with 304 (werkzeug's conditional logic).
A private image's variants are `private, no-cache`: kept by no shared cache.

A hit of the filesystem result cache arrives as its open file (`caches.base.CachedFile`) and
is never read here. Its body is the file itself, through the WSGI server's
`wsgi.file_wrapper`, which gunicorn sends with `sendfile(2)`; or, with
`IMAGES_ACCEL_REDIRECT` set and the request marked by NGINX (`X-Images-Accel`, below), no body
at all but `X-Accel-Redirect: <prefix><path under the cache>`, and NGINX sends the file from
its internal location over the cache directory (nginx/nginx.conf), restoring our ETag, Vary
and other headers there. A 304 or a HEAD sends no body and closes the file at once (a 412,
like werkzeug's for bytes, carries the body).

NGINX copies the Cache-Control of an answer that redirects into whatever the redirect ends
in, its own 404 for a file gone meanwhile included (a year-long `public` on a 404): so such an
answer carries it as `X-Images-Cache-Control`, which nginx.conf sets on the file's 200 or 304
only. It is moved when the headers go out, after every `after_request` hook had its say (a
signed URL's `max-age`).

`X-Images-Accel` is NGINX's say on each request it forwards: `on`, any hit may be redirected;
`private`, only a private image's (the location keeps public 200s in its proxy_cache, which
must see the bytes to store them); absent or anything else, none, so a client that reaches
the app directly, or NGINX's retry after a redirect found no file, always gets the bytes.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, cast

from flask import Response, request
from werkzeug.datastructures import Headers
from werkzeug.wsgi import wrap_file

from images_server.caches.base import CachedFile
from images_server.http import services
from images_server.http.hints import HINT_HEADERS
from images_server.render import Rendered

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

IMMUTABLE = "public, max-age=31536000, immutable"
PRIVATE = "private, no-cache"  # never in a shared cache; the browser revalidates (304)
ACCEL_HEADER = "X-Images-Accel"
# The request headers werkzeug's conditional logic reads, as WSGI keys: without any of them it
# has nothing to do, and a cached variant is served without its parsing (a few % of a hit).
_CONDITIONS = frozenset(
    {
        "HTTP_IF_MATCH",
        "HTTP_IF_NONE_MATCH",
        "HTTP_IF_MODIFIED_SINCE",
        "HTTP_IF_UNMODIFIED_SINCE",
        "HTTP_IF_RANGE",
        "HTTP_RANGE",
    }
)


def image_response(
    rendered: Rendered, vary_accept: bool = False, public: bool = True, vary: tuple[str, ...] = ()
) -> Response:
    """`vary`: the client-hint headers the variant was made from (http/hints.py)."""
    content = rendered.content
    if isinstance(content, bytes):
        response = Response(content, mimetype=rendered.media_type)
    else:
        response = _FileResponse(mimetype=rendered.media_type)
        response.content_length = content.size
    response.set_etag(rendered.etag, weak=False)
    response.headers["Cache-Control"] = IMMUTABLE if public else PRIVATE
    if vary_accept or vary:
        response.headers["Vary"] = ", ".join((("Accept",) if vary_accept else ()) + vary)
    if services().settings.client_hints:
        response.headers.extend(HINT_HEADERS)
    if not _CONDITIONS.isdisjoint(request.environ):
        response.make_conditional(request)  # turns itself into a 304 when the ETag matches
    if isinstance(content, CachedFile):
        _send_file(response, content, public)
    return response


def _send_file(response: Response, hit: CachedFile, public: bool) -> None:
    if response.status_code == 304 or request.method == "HEAD":
        hit.close()  # no body to send
        return
    prefix = services().settings.accel_redirect
    if prefix and response.status_code == 200 and _redirectable(public):
        hit.close()  # NGINX opens the file itself
        response.headers["X-Accel-Redirect"] = prefix + hit.relative
        # No body, and a length that says so: NGINX takes the file's own length, and one
        # promising bytes that never come would cost it its keep-alive connection to us.
        response.content_length = 0
        return
    body = cast(IO[bytes], _Body(hit))  # all of a file the wrappers use
    response.response = wrap_file(request.environ, body)  # the server closes it
    response.direct_passthrough = True  # the wrapper itself reaches gunicorn: sendfile(2)


def _redirectable(public: bool) -> bool:
    allowed = request.headers.get(ACCEL_HEADER, "")
    return allowed == "on" or (allowed == "private" and not public)


class _FileResponse(Response):
    def get_wsgi_headers(self, environ: WSGIEnvironment) -> Headers:
        headers = super().get_wsgi_headers(environ)
        if "X-Accel-Redirect" in headers and "Cache-Control" in headers:
            headers["X-Images-Cache-Control"] = headers.pop("Cache-Control")
        return headers


class _Body:
    """A cached file as the WSGI body: what gunicorn's sendfile and werkzeug's file wrapper
    use of a file (`fileno`, `read`, `close`). It holds the `CachedFile`, so a body no server
    closes (a test client's, unread) is still closed once collected."""

    def __init__(self, hit: CachedFile) -> None:
        self._hit = hit

    def fileno(self) -> int:
        return self._hit.file.fileno()

    def read(self, size: int = -1) -> bytes:
        return self._hit.file.read(size)

    def close(self) -> None:
        self._hit.close()
