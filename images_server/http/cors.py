"""CORS for direct browser uploads: with `IMAGES_CORS_ORIGINS`, a page on one of those origins
may `POST /upload` with an upload token (docs/api.md §5).

Only `/upload` answers CORS: a preflight (`OPTIONS`) gets `Access-Control-Allow-Origin`,
`-Methods: POST` and `-Headers: Authorization, Content-Type`; the upload's answer, errors
included, gets `Access-Control-Allow-Origin`, so the page can read the JSON. Credentials
(cookies) are never allowed: the token is the credential. Minting tokens stays a server-side
call with an API key, so `/upload-tokens` has no CORS at all.
"""

from __future__ import annotations

from flask import Flask, Response, request

from images_server.settings import Settings

CORS_PATHS = frozenset({"/upload"})
PREFLIGHT_MAX_AGE = 600


def register_cors(app: Flask, settings: Settings) -> None:
    """Answer CORS on `/upload` for `settings.cors_origins`; nothing when none is set."""
    allowed = frozenset(settings.cors_origins)
    if not allowed:
        return

    def add_headers(response: Response) -> Response:
        origin = request.headers.get("Origin")
        if request.path not in CORS_PATHS or origin is None:
            return response
        response.vary.add("Origin")
        if "*" not in allowed and origin.lower() not in allowed:
            return response  # no header: the browser refuses, as without CORS
        response.headers["Access-Control-Allow-Origin"] = "*" if "*" in allowed else origin
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "POST"
            response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
            response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
        return response

    app.after_request(add_headers)
