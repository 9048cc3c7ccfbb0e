"""`POST /packs/analyze`, `POST /packs`, `GET /packs/<id>`, `POST /packs/<id>/cancel`,
`GET /packs/<id>/download` and `GET /packs/<id>/files/<name>` (docs/api.md §2, §7).

A pack belongs to whoever created it: the API key's user; else the web UI's browser session
(`http.sessions`); else, for an API client on a server without keys, whoever holds its id (128
random bits: a capability, like a signed URL). Anyone else gets 404, as for a pack that never
existed. A source sent with the pack is checked like an upload
(415/413/422 at once), then stored privately under the pack, never reachable through `/image`.
A pack whose job cannot be queued is answered `503` and leaves nothing behind (`_accept`).
`POST /packs/analyze` answers the analysis and recommended settings at once and stores nothing,
so a page can show them before the user commits. A queued or processing pack may be
cancelled by whoever may read it: it is never built, or its job stops at its next file.
A pack made with an upload token (`http.upload_tokens`) belongs to its user and to the session.
"""

from __future__ import annotations

import json
import logging
import secrets
import zipfile
from datetime import timedelta
from io import BytesIO
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from images_server import content
from images_server.db.models import Pack, utcnow
from images_server.errors import (
    BadRequest,
    FacesUnavailable,
    ImageNotFound,
    PackExpired,
    PackFinished,
    PackNotFound,
    PackNotReady,
    ServiceUnavailable,
)
from images_server.hashing import Namespace, hash_bytes, pack_ref, parse_hash
from images_server.http import services
from images_server.http.clients import client_id
from images_server.http.permissions import readable
from images_server.http.sessions import session_hash
from images_server.http.uploads import read_upload
from images_server.http.urls import public_url
from images_server.ingest import check_image
from images_server.packs import store
from images_server.packs.analysis import analyse
from images_server.packs.recommend import OPTIONS, check_options, recommend, safe_name
from images_server.services import Services

bp = Blueprint("packs", __name__)
log = logging.getLogger(__name__)

_ID = 32  # hex digits: 128 bits


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


@bp.post("/packs/analyze")
def analyze() -> Response:
    svc = services()
    svc.limiter.check("upload", client_id(request, svc.settings.trusted_proxies))
    data, filename = read_upload(svc.settings.max_upload_bytes)
    check_image(svc, data)
    analysis = analyse(data)
    recommended = recommend(analysis, safe_name(filename))
    return jsonify(analysis=analysis.to_json(), recommended=recommended.to_json())


@bp.post("/packs")
def create() -> tuple[Response, int]:
    svc = services()
    svc.require_database()  # before reading the body: no database, no pack
    svc.limiter.check("upload", client_id(request, svc.settings.trusted_proxies))
    pack_id = secrets.token_hex(_ID // 2)
    if request.mimetype == "multipart/form-data" or request.mimetype.startswith("image/"):
        data, filename = read_upload(svc.settings.max_upload_bytes)
        options = _form_options()
        info = check_image(svc, data)
        check_options(options, info.width)  # 400 names the field
        svc.storage.put(pack_ref(pack_id, "source"), data)
        namespace, source_hash = Namespace.PACKS, hash_bytes(data)
    else:
        digest, options = _json_request()
        ref = parse_hash(digest)
        record = readable(svc, ref)  # a private image needs its owner's key, a grant or a signature
        if record is None:
            raise ImageNotFound()
        if content.must_redact(svc, record):  # a pack's renders do not redact faces
            raise FacesUnavailable("IMAGES_REDACT_FACES covers this image: no pack is built of it")
        filename = ref.hash[:12]
        check_options(options, record.width)  # from the row: the worker reads the bytes
        namespace, source_hash = Namespace.ORIGINALS, ref.hash
    owner = g.get("user")
    row = Pack(
        id=pack_id,
        owner=owner,
        # None: the id is the capability. An upload token's pack is the session's too, as the
        # page that spent the token follows the pack with its cookie.
        session_hash=session_hash() if not owner or g.get("upload_grant") else None,
        status="queued",
        progress=0.0,
        source_namespace=namespace.value,
        source_hash=source_hash,
        source_name=filename or "image",
        options=options,
        attempts=0,
        expires_at=utcnow() + timedelta(seconds=svc.settings.pack_retention),
    )
    _accept(svc, row)
    status_url = public_url(f"/packs/{pack_id}")
    response = jsonify(id=pack_id, status_url=status_url)
    response.headers["Location"] = status_url
    return response, 202


def _accept(svc: Services, row: Pack) -> None:
    """Record the pack, then queue its job; when either fails, remove what was stored, so a
    `503` leaves no pack to be built for nobody.

    The row is committed before the job is queued, so a worker never looks for a row that is
    not there yet; a process killed between the two leaves a queued row, which the stall check
    runs later (work for nobody, bounded by the pack's retention, never a pack lost). The
    source is removed only once the row is: a row left behind still needs it."""
    database = svc.require_database()
    pack_id, own_source = row.id, row.source_namespace == Namespace.PACKS.value
    created = False  # the row's attributes expire at its commit: read above
    try:
        store.create(database, row)
        created = True
        _enqueue(svc, pack_id)
    except BaseException:
        _discard(svc, pack_id, created, own_source)
        raise


def _discard(svc: Services, pack_id: str, created: bool, own_source: bool) -> None:
    try:
        if created:
            store.discard(svc.require_database(), pack_id)
        if own_source:
            svc.storage.delete(pack_ref(pack_id, "source"))
    except Exception as error:  # logged; the stall check or the retention cleanup ends it
        log.error("pack %s not accepted, and not removed either: %s", pack_id, error)


def _enqueue(svc: Services, pack_id: str) -> None:
    if svc.jobs is None:
        raise ServiceUnavailable("no job queue")
    try:
        svc.jobs.enqueue_pack(pack_id)
    except Exception as error:  # any storage's connection error
        raise ServiceUnavailable(f"job queue: {type(error).__name__}") from error


def _visible(svc: Services, pack_id: str) -> Pack:
    """The pack if this request created it; 404 otherwise, 410 once expired."""
    if len(pack_id) != _ID or any(c not in "0123456789abcdef" for c in pack_id):
        raise PackNotFound()
    row = store.get(svc.require_database(), pack_id)
    if row is None:
        raise PackNotFound()
    user = g.get("user")
    unbound = row.owner is None and row.session_hash is None  # made without key or session
    mine = (
        unbound
        or (row.owner is not None and row.owner == user)
        or (row.session_hash is not None and row.session_hash == session_hash())
    )
    if not mine:
        raise PackNotFound()
    if row.status == "expired" or row.expires_at <= utcnow():
        raise PackExpired()
    return row


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _state(row: Pack) -> Response:
    settings = row.settings or {}
    body: dict[str, Any] = {
        "id": row.id,
        "status": row.status,
        "progress": round(row.progress, 4),
        "files_done": row.files_done,
        "files_total": row.files_total,
        "error": row.error,
        "source": {"name": row.source_name},
        "analysis": row.analysis,
        "recommended": settings.get("recommended"),
        "settings": settings.get("effective"),
        "options": row.options,
        "manifest": row.manifest,
        "created_at": row.created_at.isoformat(timespec="seconds"),
        "expires_at": row.expires_at.isoformat(timespec="seconds"),
        "download_url": public_url(f"/packs/{row.id}/download") if row.status == "done" else None,
    }
    return _private(jsonify(body))


@bp.get("/packs/<pack_id>")
def state(pack_id: str) -> Response:
    return _state(_visible(services(), pack_id))


@bp.post("/packs/<pack_id>/cancel")
def cancel(pack_id: str) -> Response:
    """Cancel a queued or processing pack (again: a no-op); 409 once it is done or failed."""
    svc = services()
    row = _visible(svc, pack_id)
    database = svc.require_database()
    if row.status != "cancelled" and not store.cancel(database, pack_id):
        row = store.get(database, pack_id) or row  # it ended meanwhile: say how
        if row.status != "cancelled":
            raise PackFinished(f"the pack is {row.status}: there is nothing to cancel")
    return _state(store.get(database, pack_id) or row)


def _zip(svc: Services, row: Pack) -> bytes:
    if row.status != "done":
        raise PackNotReady(f"the pack is {row.status}")
    return svc.storage.get(pack_ref(row.id, "zip"))


@bp.get("/packs/<pack_id>/download")
def download(pack_id: str) -> Response:
    svc = services()
    row = _visible(svc, pack_id)
    name = (row.manifest or {}).get("name", "pack")
    response = Response(_zip(svc, row), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-pack.zip"'
    return _private(response)


_PREVIEW_TYPES = {
    "avif": "image/avif",
    "webp": "image/webp",
    "jpg": "image/jpeg",
    "png": "image/png",
}


@bp.get("/packs/<pack_id>/files/<name>")
def file(pack_id: str, name: str) -> Response:
    """One image of a done pack, for previews in the web UI."""
    svc = services()
    row = _visible(svc, pack_id)
    files = {entry["file"] for entry in (row.manifest or {}).get("files", [])}
    if name not in files:
        raise PackNotFound("no such file in this pack")
    with zipfile.ZipFile(BytesIO(_zip(svc, row))) as archive:
        data = archive.read(name)
    response = Response(data, mimetype=_PREVIEW_TYPES[name.rsplit(".", 1)[-1]])
    return _private(response)


@bp.get("/packs/<pack_id>/snippets")
def snippets(pack_id: str) -> Response:
    """The snippet texts of a done pack, `{file name: text}`, for the web UI's copy buttons."""
    svc = services()
    row = _visible(svc, pack_id)
    names = [str(path) for path in (row.manifest or {}).get("snippets", [])]
    with zipfile.ZipFile(BytesIO(_zip(svc, row))) as archive:
        texts = {name.rsplit("/", 1)[-1]: archive.read(name).decode() for name in names}
    return _private(jsonify(texts))
