"""`POST /upload`, `GET /image/<hash>[/<pipeline>]`, `GET /image/<hash>/metadata` and
`DELETE /image/<hash>`."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, url_for
from werkzeug.routing import PathConverter

from images_server.errors import BadRequest, ImageNotFound, UploadDisabled, UploadTooLarge
from images_server.hashing import original_ref, parse_hash
from images_server.http import services
from images_server.http.clients import client_id
from images_server.http.plans import plan_request
from images_server.http.responses import IMMUTABLE, image_response
from images_server.ingest import admit
from images_server.metadata import describe
from images_server.render import render

bp = Blueprint("images", __name__)


class PipelineConverter(PathConverter):
    """Like `path`, but any character matches, so a pipeline with a newline in it reaches
    the parser (and gets its 400) instead of falling through to 404."""

    regex = "[^/](?s:.*?)"


def _read_upload(max_bytes: int) -> bytes:
    """The uploaded bytes: multipart field `file`, or the raw body; never more than the limit."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise BadRequest("send the image in the multipart form field 'file'")
        data = upload.stream.read(max_bytes + 1)
        upload.close()  # a large part is spooled to a temporary file
    elif request.mimetype == "application/x-www-form-urlencoded":
        raise BadRequest("send the image as multipart field 'file' or as a raw image/* body")
    else:
        data = request.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UploadTooLarge(f"the upload is larger than the limit of {max_bytes} bytes")
    if not data:
        raise BadRequest("the upload is empty")
    return data


@bp.post("/upload")
def upload() -> tuple[Response, int]:
    svc = services()
    if not svc.settings.upload_enabled:
        raise UploadDisabled()
    svc.limiter.check("upload", client_id(request, svc.settings.trusted_proxies))  # body unread
    data = _read_upload(svc.settings.max_upload_bytes)
    admitted = admit(svc, original_ref(data), data)
    body = {
        "status": "success",
        "hash": admitted.ref.hash,
        "width": admitted.info.width,
        "height": admitted.info.height,
        "format": admitted.info.format,
        "bytes": admitted.size,
        "url": url_for("images.image", hash_=admitted.ref.hash, _external=True),
    }
    return jsonify(body), 201


@bp.get("/image/<hash_>", strict_slashes=False)
@bp.get("/image/<hash_>/<pipeline:pipeline>")
def image(hash_: str, pipeline: str = "") -> Response:
    svc = services()
    ref = parse_hash(hash_)
    planned = plan_request(request, svc.settings, pipeline)
    rendered = render(svc, ref, planned.plan, client_id(request, svc.settings.trusted_proxies))
    return image_response(rendered, vary_accept=planned.negotiated)


@bp.get("/image/<hash_>/metadata")
def metadata(hash_: str) -> Response:
    """SPEC §2: size, format, safe EXIF (§5), placeholder; as immutable as the image."""
    ref = parse_hash(hash_)
    storage = services().storage
    etag = f"{ref.hash[:16]}-meta-v1"
    if request.if_none_match.contains(etag) and storage.exists(ref):
        response = Response(status=304)  # nothing to decode for a client that has it
    else:
        response = jsonify({"hash": ref.hash, **describe(storage.get(ref))})
    response.set_etag(etag, weak=False)
    response.headers["Cache-Control"] = IMMUTABLE
    return response


@bp.delete("/image/<hash_>")
def delete(hash_: str) -> Response:
    svc = services()
    ref = parse_hash(hash_)
    if not svc.storage.delete(ref):
        raise ImageNotFound()
    svc.cache.purge(ref)
    return jsonify(status="success")
