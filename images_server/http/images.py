"""`POST /upload`, `GET /image/<hash>[/<pipeline>]` and `GET /image/<hash>/metadata`.

Uploads keep the metadata database and the storage consistent (`images_server.catalog`);
metadata is served from the image's row, computed at upload. A private image is served only
to whom `permissions.readable` allows, with `Cache-Control: private, no-cache`, so no shared
cache keeps it and the browser asks again (a cheap 304) each time.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from werkzeug.routing import PathConverter

from images_server import catalog, content
from images_server.catalog import ImageRecord, Uploader
from images_server.errors import BadRequest, UploadDisabled
from images_server.hashing import original_ref, parse_hash
from images_server.http import services
from images_server.http.caller import caller
from images_server.http.permissions import check_readable, overlays_readable, readable
from images_server.http.plans import plan_request
from images_server.http.responses import IMMUTABLE, PRIVATE, image_response
from images_server.http.upload_tokens import token_visibility
from images_server.http.uploads import read_upload
from images_server.http.urls import public_url
from images_server.ingest import admit_upload
from images_server.observability.hooks import count_upload
from images_server.observability.tracing import span
from images_server.render import render

bp = Blueprint("images", __name__)


class PipelineConverter(PathConverter):
    """Like `path`, but any character matches, so a pipeline with a newline in it reaches
    the parser (and gets its 400) instead of falling through to 404."""

    regex = "[^/](?s:.*?)"


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def _public_field() -> bool | None:
    """The upload's `public` field (multipart form, or the query for a raw body); None: unset."""
    value = request.form.get("public") if request.mimetype == "multipart/form-data" else None
    if value is None:
        value = request.args.get("public")
    if value is None or not value.strip():
        return None
    text = value.strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise BadRequest("the 'public' field must be true or false")


def _is_public(record: ImageRecord | None) -> bool:
    return record is None or record.public


@bp.post("/upload")
def upload() -> tuple[Response, int]:
    svc = services()
    if not svc.settings.upload_enabled:
        raise UploadDisabled()
    who = caller()
    svc.limiter.check("upload", who.client)  # before the body is read
    data, filename = read_upload(svc.settings.max_upload_bytes, who.upload_grant)
    public = token_visibility(_public_field(), who.upload_grant)
    uploader = Uploader(user=who.user, filename=filename, public=public)
    with span("ingest"):
        admitted = admit_upload(svc, original_ref(data), data, uploader)
    count_upload(admitted.size, admitted.new)
    if svc.jobs is not None:
        svc.jobs.enqueue_after_upload(admitted.ref, admitted.info)  # copies, eager variants
    body = {
        "status": "success",
        "hash": admitted.ref.hash,
        "width": admitted.info.width,
        "height": admitted.info.height,
        "format": admitted.info.format,
        "bytes": admitted.size,
        "url": public_url(f"/image/{admitted.ref.hash}"),
        "public": _is_public(admitted.record),
    }
    return jsonify(body), 201


@bp.get("/image/<hash_>", strict_slashes=False)
@bp.get("/image/<hash_>/<pipeline:pipeline>")
def image(hash_: str, pipeline: str = "") -> Response:
    svc = services()
    ref = parse_hash(hash_)
    planned = plan_request(request, svc.settings, pipeline)
    who = caller()
    record = readable(svc, ref, who)
    overlays_public = overlays_readable(svc, planned.plan, who)
    plan = content.plan_for(svc, record, planned.plan)
    rendered = render(svc, ref, plan, who.client)
    public = _is_public(record) and overlays_public
    return image_response(rendered, planned.negotiated, public=public, vary=planned.vary)


@bp.get("/image/<hash_>/metadata")
def metadata(hash_: str) -> Response:
    """docs/api.md §2: size, format, safe EXIF (§5), placeholder; as immutable as the image."""
    ref = parse_hash(hash_)
    svc = services()
    record, facts = catalog.stored_metadata(svc, ref)  # one read of the row: access and facts
    check_readable(svc, ref, record, caller())
    facts_version = content.version(record)  # the focal point and faces may still change
    etag = f"{ref.hash[:16]}-meta-v1" + (f"-{facts_version}" if facts_version else "")
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = jsonify({"hash": ref.hash, **facts.to_json(), **content.metadata_fields(record)})
    response.set_etag(etag, weak=False)
    response.headers["Cache-Control"] = IMMUTABLE if _is_public(record) else PRIVATE
    return response
