"""Access checks run before every request: API keys for writes, signatures for transforms.

Writes are every request whose method is not GET, HEAD or OPTIONS, so write routes added later
are covered without a list to maintain; when `IMAGES_API_KEYS` is set, or the metadata database
(`make_engine(settings.database_url_or_default)`, one engine per app) holds a key that is not
revoked, they need `Authorization: Bearer <key>` (else 401 with `WWW-Authenticate`), and the
key's user is kept in `g.user` (None when nobody authenticated). A Bearer upload token
(`iut_...`) is checked by `upload_tokens.authorize` instead, whatever the keys: it acts as the
user who made it, for one upload. A read may also carry a Bearer
key, which is then checked the same way. Signatures: with `IMAGES_REQUIRE_SIGNATURE`, every
transform — an `/image/<hash>` URL with path ops or `?size=`/`?format=`, and every `/external`
request — needs a valid `signature`; the original (`/image/<hash>` alone) is not a transform
and stays open. A read that carries a `signature` is verified whatever the setting, so a
tampered or wrongly signed URL is 403, never silently served. Verified URLs set `g.signed`; one
with `expires` is not cached by shared caches beyond its expiry. An unsigned transform must keep
within `IMAGES_ONLY_PRESETS`, `IMAGES_ALLOWED_OPS` and `IMAGES_ALLOWED_WIDTHS` (`unsigned`).
"""

from __future__ import annotations

import logging
import time
import weakref
from typing import cast
from urllib.parse import quote

from flask import Flask, Response, current_app, g, request
from sqlalchemy import Engine

from images_server.db.upload_tokens import is_upload_token
from images_server.http import upload_tokens
from images_server.http.unsigned import check_unsigned, restricted
from images_server.security.auth import (
    ApiKeys,
    DatabaseKeys,
    KeyChecker,
    bearer_token,
    open_writes_warning,
)
from images_server.security.signing import SIGNATURE, signing_keys, verify
from images_server.settings import Settings

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_QUERY_OPS = ("size", "format")
_EXTENSION = "images.signing_keys"


class SigningKeys:
    """The app's signing keys, read (or generated in the data dir) on first use, then kept."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._keys: tuple[bytes, ...] = ()

    def __call__(self) -> tuple[bytes, ...]:
        if not self._keys:
            self._keys = signing_keys(self._settings)
        return self._keys


def current_signing_keys() -> tuple[bytes, ...]:
    """The running app's signing keys; the first one signs."""
    return cast(SigningKeys, current_app.extensions[_EXTENSION])()


def register_access(app: Flask, settings: Settings) -> None:
    """Install the checks on `app`, and warn when writes are open to the network."""
    keys = SigningKeys(settings)
    database = DatabaseKeys(settings.database_url_or_default, _services_database(app))
    weakref.finalize(app, database.dispose)  # pooled connections are closed, not dropped
    api_keys = KeyChecker(ApiKeys.parse(settings.api_keys), database)
    app.extensions[_EXTENSION] = keys
    warning = open_writes_warning(settings, database)
    if warning:
        log.warning(warning)
    if settings.require_signature:
        keys()  # an unreadable or unwritable key file stops the start, not every request

    def check() -> None:
        g.user = _authenticate(api_keys)
        if _needs_signature(settings.require_signature):
            query = request.query_string.decode("utf-8", "replace")
            # request.path is decoded; quoting it back gives a path that decodes to it exactly.
            g.signature_expires = verify(quote(request.path), query, keys(), time.time())
            g.signed = True
        elif restricted(settings) and request.method in ("GET", "HEAD") and _is_transform():
            check_unsigned(settings, _pipeline(), request.args)

    app.before_request(check)
    app.after_request(_finish)


def _services_database(app: Flask) -> Engine | None:
    """The engine of the app's services (`Services.database`), so the app has only one."""
    engine = getattr(app.extensions.get("images"), "database", None)
    return engine if isinstance(engine, Engine) else None


def _authenticate(api_keys: KeyChecker) -> str | None:
    header = request.headers.get("Authorization")
    token = bearer_token(header)
    if token is not None and is_upload_token(token):
        return upload_tokens.authorize(token)
    return api_keys.authenticate(header, write=request.method not in SAFE_METHODS)


def _needs_signature(required: bool) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    if request.endpoint is None:  # no route matched: let the 404 or 405 through
        return False
    return SIGNATURE in request.args or (required and _is_transform())


def _pipeline() -> str:
    if request.endpoint == "external.external":
        return request.args.get("operations", "").strip("/")
    return str((request.view_args or {}).get("pipeline") or "")


def _is_transform() -> bool:
    if request.endpoint == "external.external":
        return True
    if request.endpoint == "images.image":
        pipeline = (request.view_args or {}).get("pipeline")
        return bool(pipeline) or any(param in request.args for param in _QUERY_OPS)
    return False


def _finish(response: Response) -> Response:
    if response.status_code == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="images-server"')
    expires: int | None = g.get("signature_expires")
    cache_control = response.cache_control
    if expires is not None and cache_control.max_age is not None:
        # A shared cache must not keep serving an expiring URL after its expiry.
        cache_control.max_age = max(0, min(cache_control.max_age, expires - int(time.time())))
        cache_control.immutable = False
    return response
