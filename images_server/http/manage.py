"""Writes on one image: `DELETE /image/<hash>`, `POST /image/<hash>/signed-url`, `/share`
and `/purge` (docs/api.md §2, §5). Each needs the owner's or an admin's key once keys exist
(`permissions.manageable`).

`signed-url` and `share` take an optional JSON object; `expires_in` is whole seconds between
1 and `IMAGES_MAX_LINK_TTL`. Purging runs every `Purger` (result cache, then the HTTP caches in
front); DELETE purges too, after the bytes and rows are gone.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from images_server import catalog
from images_server.caches.purge import purge_everywhere
from images_server.errors import BadRequest, ImageNotFound, ServiceUnavailable
from images_server.hashing import parse_hash
from images_server.http import services
from images_server.http.caller import caller
from images_server.http.permissions import manageable
from images_server.http.urls import public_url
from images_server.pipeline.parse import parse_pipeline
from images_server.security.signing import sign

log = logging.getLogger(__name__)

bp = Blueprint("manage", __name__)

_MAX_USER = 255


def _json_body() -> dict[str, Any]:
    """The request's JSON object; {} for an empty body; 400 for anything else."""
    if not request.get_data(cache=True):
        return {}
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def _expires_in(body: dict[str, Any], default: int, longest: int) -> int:
    value = body.get("expires_in", default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= longest:
        raise BadRequest(f"'expires_in' must be whole seconds from 1 to {longest}")
    return value


@bp.delete("/image/<hash_>")
def delete(hash_: str) -> Response:
    """The bytes, the rows (uploads and grants too) and every cached variant, or 404."""
    svc = services()
    ref = parse_hash(hash_)
    manageable(svc, ref, caller())
    if not catalog.delete(svc, ref):
        raise ImageNotFound()
    try:
        purge_everywhere(svc.purgers, ref)
    except ServiceUnavailable as error:  # the image is gone; a stale HTTP copy expires
        log.error("image %s deleted, but a cache could not be purged: %s", ref.hash, error)
    return jsonify(status="success")


@bp.post("/image/<hash_>/signed-url")
def signed_url(hash_: str) -> Response:
    """A URL of the image (or of `operations` applied to it) valid until `expires_at`."""
    svc = services()
    ref = parse_hash(hash_)
    manageable(svc, ref, caller())
    body = _json_body()
    settings = svc.settings
    operations = body.get("operations", "")
    if not isinstance(operations, str):
        raise BadRequest("'operations' must be a pipeline string such as resize/200x")
    operations = operations.strip("/")
    if operations:
        parse_pipeline(operations, settings.max_ops, settings.presets)  # 400 names the segment
    expires_at = int(time.time()) + _expires_in(
        body, settings.signed_url_ttl, settings.max_link_ttl
    )
    path = f"/image/{ref.hash}/{operations}" if operations else f"/image/{ref.hash}"
    signed = sign(path, "", svc.signing_keys.get(settings)[0], expires=expires_at)
    return jsonify(status="success", url=public_url(signed), expires_at=expires_at)


@bp.post("/image/<hash_>/share")
def share(hash_: str) -> Response:
    """Let `user`'s key read the (private) image for `expires_in` seconds."""
    svc = services()
    ref = parse_hash(hash_)
    if manageable(svc, ref, caller()) is None:  # bytes without a row: nothing to share
        raise ImageNotFound()
    body = _json_body()
    user = body.get("user")
    if not isinstance(user, str) or not user.strip() or len(user) > _MAX_USER or "\x00" in user:
        raise BadRequest(f"'user' must be the id of a user, 1 to {_MAX_USER} characters")
    settings = svc.settings
    expires_at = int(time.time()) + _expires_in(body, settings.share_ttl, settings.max_link_ttl)
    catalog.share(svc, ref, user.strip(), datetime.fromtimestamp(expires_at, UTC))
    return jsonify(status="success", hash=ref.hash, user=user.strip(), expires_at=expires_at)


@bp.post("/image/<hash_>/purge")
def purge(hash_: str) -> Response:
    """Drop every cached variant of the image, everywhere it is cached."""
    svc = services()
    ref = parse_hash(hash_)
    manageable(svc, ref, caller())
    return jsonify(status="success", purged=purge_everywhere(svc.purgers, ref))
