"""Packs, as the HTTP views, the job and `images-server pack` all use them: create one, find
one its creator may see, run one (analyse → recommend → the user's options → build).

A pack belongs to whoever created it: the API key's user; else the web UI's browser session
(the SHA-256 of its cookie); else, for an API client on a server without keys, whoever holds
its id (128 random bits: a capability, like a signed URL). Anyone else gets 404, as for a pack
that never existed. A source sent with the pack is checked like an upload (415/413/422 at
once), then stored privately under the pack, never reachable through `/image`. A pack whose
job cannot be queued is `503` and leaves nothing behind (`_accept`).
"""

from __future__ import annotations

import logging
import secrets
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from io import BytesIO
from typing import Any

from images_server.db.models import Pack, utcnow
from images_server.errors import (
    PackExpired,
    PackFinished,
    PackNotFound,
    PackNotReady,
    ServiceUnavailable,
)
from images_server.hashing import ImageRef, Namespace, hash_bytes, pack_ref
from images_server.ingest import check_image
from images_server.packs import store
from images_server.packs.analysis import Analysis, analyse
from images_server.packs.build import BuiltPack, build_pack, outputs
from images_server.packs.options import PackOptions, PackSettings, apply
from images_server.packs.preview import browser_preview
from images_server.packs.recommend import recommend, safe_name
from images_server.services import Services

log = logging.getLogger(__name__)

ID_DIGITS = 32  # hex digits of a pack id: 128 bits


@dataclass(frozen=True)
class Creator:
    """Who creates (and may then see) a pack: an API user, else a browser session."""

    user: str | None
    session: str | None  # the SHA-256 of the web UI's session cookie
    by_upload_token: bool = False  # then the pack is the session's as well as the user's


@dataclass(frozen=True)
class Chosen:
    """What a pack will be: the source's analysis, the recommended and the chosen settings."""

    analysis: Analysis
    recommended: PackSettings
    pack_settings: PackSettings
    preview: str | None = None  # for the page: `packs.preview.browser_preview`, when asked

    @property
    def files_total(self) -> int:
        return len(outputs(self.pack_settings))


def analyze(services: Services, data: bytes, filename: str | None) -> Chosen:
    """The analysis of an image not stored, the settings recommended for it, and a preview
    where browsers show no such file; a HEIC or JPEG XL is decoded once for all three."""
    checked = check_image(services, data)
    analysis = analyse(data, checked.decoded)
    recommended = recommend(analysis, safe_name(filename))
    return Chosen(analysis, recommended, recommended, browser_preview(data, checked.decoded))


def choose(data: bytes, source_name: str, options: Mapping[str, Any]) -> Chosen:
    """Analyse the source and lay the user's options over what is recommended."""
    analysis = analyse(data)
    recommended = recommend(analysis, safe_name(source_name))
    chosen = apply(recommended, PackOptions.parse(options), analysis.width)
    return Chosen(analysis, recommended, chosen)


def run(
    services: Services,
    job: store.PackJob,
    chosen: Callable[[Chosen], None],
    progress: Callable[[float], None],
) -> BuiltPack:
    """Build the pack of `job`: `chosen` is told what it will be, `progress` each file done."""
    data = services.storage.get(job.source)
    what = choose(data, job.source_name, job.options)
    chosen(what)
    return build_pack(
        services,
        job.source,
        job.source_name,
        job.source_hash,
        what.analysis,
        what.pack_settings,
        progress,
    )


def create_from_upload(
    services: Services, creator: Creator, data: bytes, filename: str | None, options: dict[str, Any]
) -> str:
    """A pack of an image sent with it, stored privately under the pack; its id."""
    pack_id = secrets.token_hex(ID_DIGITS // 2)
    check_image(services, data)
    PackOptions.parse(options)  # 400 names the field
    services.storage.put(pack_ref(pack_id, "source"), data)
    row = _row(services, creator, pack_id, Namespace.PACKS, hash_bytes(data), filename, options)
    _accept(services, row)
    return pack_id


def create_from_image(
    services: Services, creator: Creator, ref: ImageRef, options: dict[str, Any]
) -> str:
    """A pack of an uploaded original (the caller checked it may read it); its id."""
    pack_id = secrets.token_hex(ID_DIGITS // 2)
    PackOptions.parse(options)  # 400 names the field; the worker reads the bytes
    row = _row(services, creator, pack_id, Namespace.ORIGINALS, ref.hash, ref.hash[:12], options)
    _accept(services, row)
    return pack_id


def _row(
    services: Services,
    creator: Creator,
    pack_id: str,
    namespace: Namespace,
    source_hash: str,
    source_name: str | None,
    options: dict[str, Any],
) -> Pack:
    return Pack(
        id=pack_id,
        owner=creator.user,
        # None: the id is the key. An upload token's pack is the session's too, as the page
        # that spent the token follows the pack with its cookie.
        session_hash=creator.session if not creator.user or creator.by_upload_token else None,
        status="queued",
        progress=0.0,
        source_namespace=namespace.value,
        source_hash=source_hash,
        source_name=source_name or "image",
        options=options,
        attempts=0,
        expires_at=utcnow() + timedelta(seconds=services.settings.pack_retention),
    )


def _accept(services: Services, row: Pack) -> None:
    """Record the pack, then queue its job; when either fails, remove what was stored, so a
    `503` leaves no pack to be built for nobody.

    The row is committed before the job is queued, so a worker never looks for a row that is
    not there yet; a process killed between the two leaves a queued row, which the stall check
    runs later (work for nobody, bounded by the pack's retention, never a pack lost). The
    source is removed only once the row is: a row left behind still needs it."""
    database = services.require_database()
    pack_id, own_source = row.id, row.source_namespace == Namespace.PACKS.value
    created = False  # the row's attributes expire at its commit: read above
    try:
        store.create(database, row)
        created = True
        _enqueue(services, pack_id)
    except BaseException:
        _discard(services, pack_id, created, own_source)
        raise


def _discard(services: Services, pack_id: str, created: bool, own_source: bool) -> None:
    try:
        if created:
            store.discard(services.require_database(), pack_id)
        if own_source:
            services.storage.delete(pack_ref(pack_id, "source"))
    except Exception as error:  # logged; the stall check or the retention cleanup ends it
        log.error("pack %s not accepted, and not removed either: %s", pack_id, error)


def _enqueue(services: Services, pack_id: str) -> None:
    if services.jobs is None:
        raise ServiceUnavailable("no job queue")
    try:
        services.jobs.enqueue_pack(pack_id)
    except Exception as error:  # any storage's connection error
        raise ServiceUnavailable(f"job queue: {type(error).__name__}") from error


def visible(services: Services, pack_id: str, creator: Creator) -> Pack:
    """The pack if `creator` created it; 404 otherwise, 410 once expired."""
    if len(pack_id) != ID_DIGITS or any(c not in "0123456789abcdef" for c in pack_id):
        raise PackNotFound()
    row = store.get(services.require_database(), pack_id)
    if row is None:
        raise PackNotFound()
    unbound = row.owner is None and row.session_hash is None  # made without key or session
    mine = (
        unbound
        or (row.owner is not None and row.owner == creator.user)
        or (row.session_hash is not None and row.session_hash == creator.session)
    )
    if not mine:
        raise PackNotFound()
    if row.status == "expired" or row.expires_at <= utcnow():
        raise PackExpired()
    return row


def cancel(services: Services, row: Pack) -> Pack:
    """Cancel a queued or processing pack (again: a no-op); 409 once it is done or failed.
    The pack as it is now."""
    database = services.require_database()
    if row.status != "cancelled" and not store.cancel(database, row.id):
        row = store.get(database, row.id) or row  # it ended meanwhile: say how
        if row.status != "cancelled":
            raise PackFinished(f"the pack is {row.status}: there is nothing to cancel")
    return store.get(database, row.id) or row


def archive(services: Services, row: Pack) -> bytes:
    """The ZIP of a done pack; 409 until then."""
    if row.status != "done":
        raise PackNotReady(f"the pack is {row.status}")
    return services.storage.get(pack_ref(row.id, "zip"))


def archived(services: Services, row: Pack, names: list[str]) -> dict[str, bytes]:
    """Some files of a done pack's ZIP, by their names in it."""
    with zipfile.ZipFile(BytesIO(archive(services, row))) as opened:
        return {name: opened.read(name) for name in names}
