"""`POST /upload-tokens`, and what an upload token lets a request do (docs/api.md §5).

A server-side caller with an API key asks for a token and hands it to a browser, which sends
it as `Authorization: Bearer iut_...` on one `POST /upload`, never seeing the key. The upload
is owned by the token's user, limited to its `max_bytes` and made with its visibility. The web
UI's packs use it the same way: `POST /packs/analyze` checks it without spending it (it stores
nothing), `POST /packs` spends it and binds the pack to the browser session as well, so the page
can follow the pack with its cookie. Anything else refuses a token (401).

A token is spent before the body is read, in one conditional UPDATE (`db.upload_tokens`), so
two requests racing with it cannot both pass; only a `Content-Length` already over its limit
is refused (413) without spending it. Any later failure (too large once read, not an image,
over quota, rate-limited) leaves it spent: the browser asks for a new one.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.orm import Session

from images_server.db.models import utcnow
from images_server.db.upload_tokens import (
    TokenGrant,
    create_upload_token,
    delete_stale_upload_tokens,
    peek_upload_token,
    spend_upload_token,
    why_not,
)
from images_server.errors import (
    BadRequest,
    InvalidUploadToken,
    UploadTokenExpired,
    UploadTokenUsed,
    UploadTooLarge,
)
from images_server.http import services
from images_server.http.caller import caller
from images_server.http.uploads import MULTIPART_SLACK
from images_server.settings import Settings

bp = Blueprint("upload_tokens", __name__)

SPENDS = frozenset({"images.upload", "packs.create"})
CHECKS = frozenset({"packs.analyze"})  # stores nothing: the token stays good for the pack


def _body() -> dict[str, Any]:
    if not request.get_data(cache=True):
        return {}
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise BadRequest('send a JSON object: {"max_bytes": N, "expires_in": S, "public": B}')
    return body


def _whole(body: dict[str, Any], name: str, default: int, most: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise BadRequest(f"'{name}': a whole number from 1 to {most}")
    return value


def _public(body: dict[str, Any], settings: Settings) -> bool:
    value = body.get("public", settings.default_public)
    if not isinstance(value, bool):
        raise BadRequest("'public': true or false")
    return value


@bp.post("/upload-tokens")
def create() -> tuple[Response, int]:
    """A single-use upload token for the caller's user (docs/api.md §5)."""
    svc = services()
    settings = svc.settings
    body = _body()
    limit, ttl = settings.max_upload_bytes, settings.upload_token_ttl
    max_bytes = _whole(body, "max_bytes", limit, limit)
    expires_in = _whole(body, "expires_in", ttl, settings.upload_token_max_ttl)
    public = _public(body, settings)
    expires_at = utcnow() + timedelta(seconds=expires_in)
    with Session(svc.require_database()) as session, session.begin():
        delete_stale_upload_tokens(session)  # housekeeping on write: no job needed
        token = create_upload_token(session, caller().user, max_bytes, public, expires_at)
    response = jsonify(
        status="success",
        token=token,
        expires_at=int(expires_at.timestamp()),
        max_bytes=max_bytes,
        public=public,
    )
    response.headers["Cache-Control"] = "no-store"
    return response, 201


def _refuse(session: Session, token: str) -> InvalidUploadToken:
    reason = why_not(session, token)
    if reason == "used":
        return UploadTokenUsed()
    if reason == "expired":
        return UploadTokenExpired()
    return InvalidUploadToken()


def _check_length(grant: TokenGrant) -> None:
    """413 before spending the token when the request says it is larger than the token allows."""
    slack = MULTIPART_SLACK if request.mimetype == "multipart/form-data" else 0
    length = request.content_length
    if length is not None and length > grant.max_bytes + slack:
        limit = grant.max_bytes
        raise UploadTooLarge(f"the upload is larger than the upload token's limit of {limit} bytes")


def authorize(token: str) -> TokenGrant:
    """What upload token `token` lets this request do (as its user); spends it on an upload.

    `http.access` puts the grant in the request's `Caller`, whose `upload_grant` the upload's
    reading (`read_upload`) and visibility (`token_visibility`) honour.
    """
    if request.method != "POST" or request.endpoint not in SPENDS | CHECKS:
        raise InvalidUploadToken("an upload token is good for one POST /upload, nothing else")
    svc = services()
    database = svc.require_database()
    with Session(database) as session:
        grant = peek_upload_token(session, token)
        if grant is None:
            raise _refuse(session, token)
    _check_length(grant)
    upload_refused = request.endpoint == "images.upload" and not svc.settings.upload_enabled
    if request.endpoint in SPENDS and not upload_refused:  # a 403 upload_disabled spends nothing
        with Session(database) as session, session.begin():
            spent = spend_upload_token(session, token)
            if spent is None:  # lost a race, or expired since the look
                raise _refuse(session, token)
    return grant


def token_visibility(asked: bool | None, grant: TokenGrant | None) -> bool | None:
    """The upload's visibility: the token's, when one is used (asking otherwise is a 400)."""
    if grant is None:
        return asked
    if asked is not None and asked != grant.public:
        made = "public" if grant.public else "private"
        raise BadRequest(f"'public': this upload token makes the image {made}")
    return grant.public
