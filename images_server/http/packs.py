"""`POST /packs/analyze`, `POST /packs`, `GET /packs/<id>`, `POST /packs/<id>/cancel`,
`GET /packs/<id>/download`, `/files/<name>` and `/snippets` (docs/api.md §2, §7).

The views translate HTTP in and out of `images_server.packs.service`, which holds who may see a
pack and how one is made. `POST /packs/analyze` answers the analysis and recommended settings at
once and stores nothing, so a page can show them before the user commits. A queued or
processing pack may be cancelled by whoever may read it: it is never built, or its job stops
at its next file. A pack made with an upload token (`http.upload_tokens`) belongs to its user
and to the session.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify, request

from images_server import content
from images_server.db.models import Pack
from images_server.errors import BadRequest, FacesUnavailable, ImageNotFound, PackNotFound
from images_server.formats import media_type_of_extension
from images_server.hashing import parse_hash
from images_server.http import services
from images_server.http.caller import caller
from images_server.http.permissions import readable
from images_server.http.sessions import session_hash
from images_server.http.uploads import read_upload
from images_server.http.urls import public_url
from images_server.packs import service
from images_server.packs.options import OPTIONS

bp = Blueprint("packs", __name__)


def _form_options() -> dict[str, Any]:
    """Options from the multipart form, or from the query when the body is the raw image."""
    fields = request.form if request.mimetype == "multipart/form-data" else request.args
    options: dict[str, Any] = {}
    for name in OPTIONS:
        value = fields.get(name)
        if value is None or not value.strip():
            continue
        if name == "quality":
            try:
                options[name] = json.loads(value)
            except ValueError:
                raise BadRequest("'quality': a JSON object such as {\"avif\": 50}") from None
        else:
            options[name] = value.strip() if name not in ("alt", "sizes") else value
    return options


def _json_request() -> tuple[str, dict[str, Any]]:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise BadRequest("send a multipart form with 'file', or a JSON object with 'hash'")
    digest = body.get("hash")
    if not isinstance(digest, str):
        raise BadRequest("'hash': the hash of an uploaded image")
    options = {key: value for key, value in body.items() if key != "hash"}
    return digest, options


def _creator() -> service.Creator:
    """Who creates (and may see) packs: the caller's user, else this browser's session (and
    both for an upload token's pack, which the page that spent the token follows)."""
    who = caller()
    return service.Creator(
        user=who.user, session=session_hash(), by_upload_token=who.upload_grant is not None
    )


@bp.post("/packs/analyze")
def analyze() -> Response:
    svc = services()
    svc.limiter.check("upload", caller().client)
    data, filename = read_upload(svc.settings.max_upload_bytes, caller().upload_grant)
    analysed = service.analyze(svc, data, filename)
    return jsonify(
        analysis=analysed.analysis.to_json(),
        recommended=analysed.recommended.to_json(),
        preview=analysed.preview,  # None: the browser shows the file itself
    )


@bp.post("/packs")
def create() -> tuple[Response, int]:
    svc = services()
    svc.require_database()  # before reading the body: no database, no pack
    svc.limiter.check("upload", caller().client)
    if request.mimetype == "multipart/form-data" or request.mimetype.startswith("image/"):
        data, filename = read_upload(svc.settings.max_upload_bytes, caller().upload_grant)
        options = _form_options()
        pack_id = service.create_from_upload(svc, _creator(), data, filename, options)
    else:
        digest, options = _json_request()
        ref = parse_hash(digest)
        record = readable(svc, ref, caller())  # a private image needs its owner's key, a grant…
        if record is None:
            raise ImageNotFound()
        if content.must_redact(svc, record):  # a pack's renders do not redact faces
            raise FacesUnavailable("IMAGES_REDACT_FACES covers this image: no pack is built of it")
        pack_id = service.create_from_image(svc, _creator(), ref, options)
    status_url = public_url(f"/packs/{pack_id}")
    response = jsonify(id=pack_id, status_url=status_url)
    response.headers["Location"] = status_url
    return response, 202


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _state(row: Pack) -> Response:
    pack_settings = row.settings or {}
    body: dict[str, Any] = {
        "id": row.id,
        "status": row.status,
        "progress": round(row.progress, 4),
        "files_done": row.files_done,
        "files_total": row.files_total,
        "error": row.error,
        "source": {"name": row.source_name},
        "analysis": row.analysis,
        "recommended": pack_settings.get("recommended"),
        "settings": pack_settings.get("effective"),
        "options": row.options,
        "manifest": row.manifest,
        "created_at": row.created_at.isoformat(timespec="seconds"),
        "expires_at": row.expires_at.isoformat(timespec="seconds"),
        "download_url": public_url(f"/packs/{row.id}/download") if row.status == "done" else None,
    }
    return _private(jsonify(body))


def _visible(pack_id: str) -> Pack:
    return service.visible(services(), pack_id, _creator())


@bp.get("/packs/<pack_id>")
def state(pack_id: str) -> Response:
    return _state(_visible(pack_id))


@bp.post("/packs/<pack_id>/cancel")
def cancel(pack_id: str) -> Response:
    """Cancel a queued or processing pack (again: a no-op); 409 once it is done or failed."""
    return _state(service.cancel(services(), _visible(pack_id)))


@bp.get("/packs/<pack_id>/download")
def download(pack_id: str) -> Response:
    row = _visible(pack_id)
    name = (row.manifest or {}).get("name", "pack")
    response = Response(service.archive(services(), row), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-pack.zip"'
    return _private(response)


@bp.get("/packs/<pack_id>/files/<name>")
def file(pack_id: str, name: str) -> Response:
    """One image of a done pack, for previews in the web UI."""
    row = _visible(pack_id)
    files = {entry["file"] for entry in (row.manifest or {}).get("files", [])}
    if name not in files:
        raise PackNotFound("no such file in this pack")
    data = service.archived(services(), row, [name])[name]
    media_type = media_type_of_extension(name.rsplit(".", 1)[-1])
    return _private(Response(data, mimetype=media_type or "application/octet-stream"))


@bp.get("/packs/<pack_id>/snippets")
def snippets(pack_id: str) -> Response:
    """The snippet texts of a done pack, `{file name: text}`, for the web UI's copy buttons."""
    row = _visible(pack_id)
    names = [str(path) for path in (row.manifest or {}).get("snippets", [])]
    texts = service.archived(services(), row, names)
    return _private(
        jsonify({name.rsplit("/", 1)[-1]: text.decode() for name, text in texts.items()})
    )
