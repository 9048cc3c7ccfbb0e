"""Access checks run before every request: API keys for writes, signatures for transforms; and
the request's `Caller` (`http.caller`), built here once.

Writes are every request whose method is not GET, HEAD or OPTIONS, so write routes added later
are covered without a list to maintain; when `IMAGES_API_KEYS` is set, or the metadata database
holds a key that is not revoked (`Services.key_checker`), they need `Authorization: Bearer
<key>` (else 401 with `WWW-Authenticate`), and the key's user is the caller's `user` (None when
nobody authenticated). A Bearer upload token (`iut_...`) is checked by `upload_tokens.authorize`
instead, whatever the keys: the caller acts as the user who made it, for one upload, and carries
its `upload_grant`. A read may also carry a Bearer key, which is then checked the same way.
Signatures (`Services.signing_keys`): with `IMAGES_REQUIRE_SIGNATURE`, every transform — an
`/image/<hash>` URL with path ops or `?size=`/`?format=`, and every `/external` request — needs
a valid `signature`; the original (`/image/<hash>` alone) is not a transform and stays open. A
read that carries a `signature` is verified whatever the setting, so a tampered or wrongly
signed URL is 403, never silently served. A verified URL makes the caller `signed`; one with
`expires` is not cached by shared caches beyond its expiry. An unsigned transform must keep
within `IMAGES_ONLY_PRESETS`, `IMAGES_ALLOWED_OPS` and `IMAGES_ALLOWED_WIDTHS` (`unsigned`).
"""

from __future__ import annotations

import logging
import time
import weakref
from urllib.parse import quote

from flask import Flask, Response, g, request

from images_server.db.upload_tokens import TokenGrant, is_upload_token
from images_server.http import upload_tokens
from images_server.http.caller import Caller
from images_server.http.clients import client_id
from images_server.http.unsigned import check_unsigned, restricted
from images_server.security.auth import KeyChecker, bearer_token, open_writes_warning
from images_server.security.signing import SIGNATURE, verify
from images_server.services import Services

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_QUERY_OPS = ("size", "format")


def register_access(app: Flask, services: Services) -> None:
    """Install the checks on `app`, and warn when writes are open to the network."""
    settings, keys, checker = services.settings, services.signing_keys, services.key_checker
    if checker is None:
        raise RuntimeError("services without API keys: build them with wiring.for_web")
    weakref.finalize(app, checker.database.dispose)  # pooled connections closed, not dropped
    warning = open_writes_warning(settings, checker.database)
    if warning:
        log.warning(warning)
    if settings.require_signature:
        keys.get(settings)  # an unreadable or unwritable key file stops the start, not a request

    def check() -> None:
        user, grant = _authenticate(checker)
        signed = _needs_signature(settings.require_signature)
        if signed:
            query = request.query_string.decode("utf-8", "replace")
            # request.path is decoded; quoting it back gives a path that decodes to it exactly.
            path = quote(request.path)
            g.signature_expires = verify(path, query, keys.get(settings), time.time())
        elif restricted(settings) and request.method in ("GET", "HEAD") and _is_transform():
            check_unsigned(settings, _pipeline(), request.args)
        client = client_id(request, settings.trusted_proxies)
        g.caller = Caller(user, signed, client, upload_grant=grant)

    app.before_request(check)
    app.after_request(_finish)


def _authenticate(checker: KeyChecker) -> tuple[str | None, TokenGrant | None]:
    """The request's user, and the grant of the upload token it carries (if it does)."""
    header = request.headers.get("Authorization")
    token = bearer_token(header)
    if token is not None and is_upload_token(token):
        grant = upload_tokens.authorize(token)
        return grant.user, grant
    return checker.authenticate(header, write=request.method not in SAFE_METHODS), None


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
    if expires is None:
        return response
    cache_control = response.cache_control  # parsed from the header: only when needed
    if cache_control.max_age is not None:
        # A shared cache must not keep serving an expiring URL after its expiry.
        cache_control.max_age = max(0, min(cache_control.max_age, expires - int(time.time())))
        cache_control.immutable = False
    return response
