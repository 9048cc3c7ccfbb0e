"""The image catalogue: what the metadata database knows of stored originals, kept in step
with the storage.

Uploads: the `Image` row (metadata of `describe`, computed once at upload), an `Upload` row and
the quota check run in one transaction; the bytes are stored inside it and only then is it
committed. A failing `put` rolls the rows back; a failing commit removes the bytes this call
stored. Deletes: the rows are deleted, then the bytes; a failing storage delete rolls the rows
back, a failing commit puts the bytes back. So neither a row without bytes nor bytes without a
row is left behind. An original's derivatives (`derivatives.py`) are deleted with it, before its
bytes; a rollback that puts the bytes back queues them to be built again.

Reads: `lookup` gives the visibility and owner of an image (`ImageRecord`); `may_read` says
whether a user holds access to a private one (a grant that has not expired, or having uploaded
the same bytes); `stored_metadata` is what `GET /image/<hash>/metadata` serves, from the row.
On a SQLite file (the embedded default) `lookup` keeps the records it read until anything
commits to the file, from any process (`db.unchanged`): a cached variant's read then asks
SQLite one counter.
Bytes without a row (a process killed between storing and committing) are not an image: reads
answer 404 until an upload of the same bytes records them; an admin may delete them.

While the database is down or hangs, `lookup` answers from memory for public images: each
engine keeps the records of the `_REMEMBERED` public images it read most recently, and when the
row cannot be read, a record the database confirmed within `_TRUSTED_FOR` seconds stands in
for it, so their variants (cached, or rendered from the storage) are still served. Only
public records are kept, so a private image is never served without its row: it is a 503.
Deleting an image here forgets it; one deleted through another process is at worst served
from its stored bytes, which the delete removed, so a render is a 404 and only a variant left
in that process's memory cache could be served for that long. A row never turns from public
to private in place: only a delete and a new upload of the same bytes could.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from images_server import derivatives
from images_server.db import queries
from images_server.db.models import Image, Upload
from images_server.db.unchanged import Unchanged, sqlite_file
from images_server.errors import DatabaseUnavailable, ImageNotFound, QuotaExceeded
from images_server.formats import MEDIA_TYPES
from images_server.hashing import ImageRef
from images_server.metadata import ImageFacts, describe
from images_server.observability.tracing import span
from images_server.services import Services

_MAX_NAME = 255  # the width of the user and file name columns
_REMEMBERED = 10_000  # public records kept per engine, most recently read first
_TRUSTED_FOR = 600.0  # seconds a remembered record may stand in for its row


@dataclass(frozen=True)
class ImageRecord:
    """What a request needs to know of an image before serving it: a few scalar columns."""

    hash: str
    public: bool
    owner: str | None
    width: int
    focal_x: float | None = None  # the stored focal point, and the faces found (content.py)
    focal_y: float | None = None
    faces: list[list[float]] | None = None


@dataclass(frozen=True)
class Uploader:
    """Who uploads, under which file name, asking for which visibility (None: the default)."""

    user: str | None = None
    filename: str | None = None
    public: bool | None = None


def _clip(text: str | None) -> str | None:
    """`text` as a column can hold it: no NUL (PostgreSQL refuses it), at most 255 chars."""
    if text is None:
        return None
    return text.replace("\x00", "")[:_MAX_NAME] or None


def _record(row: Image) -> ImageRecord:
    return ImageRecord(
        row.hash, row.public, row.owner, row.width, row.focal_x, row.focal_y, row.faces
    )


class _PublicRecords:
    """The public records one engine read lately, with when the database last confirmed them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: OrderedDict[str, tuple[ImageRecord, float]] = OrderedDict()

    def confirmed(self, image_hash: str, record: ImageRecord | None) -> None:
        with self._lock:
            if record is None or not record.public:
                self._records.pop(image_hash, None)
                return
            self._records[image_hash] = (record, time.monotonic())
            self._records.move_to_end(image_hash)
            if len(self._records) > _REMEMBERED:
                self._records.popitem(last=False)

    def recall(self, image_hash: str) -> ImageRecord | None:
        with self._lock:
            found = self._records.get(image_hash)
        if found is None or time.monotonic() - found[1] > _TRUSTED_FOR:
            return None
        return found[0]


@dataclass
class _Memory:
    """What one engine's process remembers of its records."""

    public: _PublicRecords  # stands in while the database is down
    unchanged: Unchanged[ImageRecord | None] | None  # a SQLite file's, until its next commit


_memories: WeakKeyDictionary[Engine, _Memory] = WeakKeyDictionary()
_memories_lock = threading.Lock()


def _memory(database: Engine) -> _Memory:
    with _memories_lock:
        memory = _memories.get(database)
        if memory is None:
            path = sqlite_file(database)
            unchanged = Unchanged[ImageRecord | None](path) if path is not None else None
            memory = _memories[database] = _Memory(_PublicRecords(), unchanged)
        return memory


# --- Reads ---------------------------------------------------------------------------------


# One statement object, so SQLAlchemy compiles it once: a Core query on a connection costs a
# quarter of an ORM session's (about 50 against 210 microseconds on every /image read).
_RECORD_BY_HASH = select(
    Image.hash,
    Image.public,
    Image.owner,
    Image.width,
    Image.focal_x,
    Image.focal_y,
    Image.faces,
).where(Image.hash == bindparam("hash"))


def lookup(services: Services, ref: ImageRef) -> ImageRecord | None:
    """The image's visibility and owner; None without a row (or without a database).

    Every read of `/image` asks this, so it selects only the record's columns (not the EXIF),
    and a SQLite file's record is kept in memory until a commit to the file (`db.unchanged`).
    When the database cannot answer, a public record read lately stands in (see the module).
    """
    if services.database is None:
        return None
    database = services.database
    memory = _memory(database)
    if memory.unchanged is None:
        return _read_record(database, ref, memory.public)
    return memory.unchanged.read(ref.hash, lambda: _read_record(database, ref, memory.public))


def _read_record(database: Engine, ref: ImageRef, remembered: _PublicRecords) -> ImageRecord | None:
    try:
        with database.connect() as connection:
            found = connection.execute(_RECORD_BY_HASH, {"hash": ref.hash}).first()
    except DatabaseUnavailable:
        standing_in = remembered.recall(ref.hash)
        if standing_in is None:
            raise  # private, unknown, or not read lately: a 503, never a guess
        return standing_in
    record = ImageRecord(*found) if found is not None else None
    remembered.confirmed(ref.hash, record)
    return record


def may_read(services: Services, ref: ImageRef, user: str, now: datetime | None = None) -> bool:
    """Whether `user` holds an unexpired grant on the image, or uploaded these bytes too."""
    with Session(services.require_database()) as session:
        if queries.has_grant(session, ref.hash, user, now):
            return True
        uploaded = select(Upload.id).where(Upload.image_hash == ref.hash, Upload.user == user)
        return session.execute(uploaded.limit(1)).first() is not None


def _row_facts(row: Image, color_space: str) -> ImageFacts:
    """What `describe` said at upload, from the row."""
    return ImageFacts(
        width=row.width,
        height=row.height,
        format=row.format,
        mime=MEDIA_TYPES[row.format],
        bytes=row.bytes,
        has_alpha=row.has_alpha,
        frames=row.frames,
        orientation=row.orientation,
        color_space=color_space,
        exif=row.exif,
        placeholder=row.placeholder,
        dominant_color=row.dominant_color,
    )


def stored_metadata(services: Services, ref: ImageRef) -> tuple[ImageRecord | None, ImageFacts]:
    """The image's record and the metadata `GET /image/<hash>/metadata` serves, from one read
    of its row (a row from before migration 0002 is completed from the bytes, once).

    Raises `ImageNotFound` without a row; without a database, metadata comes from the bytes.
    """
    if services.database is None:
        return None, describe(services.storage.get(ref))
    with Session(services.database) as session:
        row = queries.get_image(session, ref.hash)
        if row is None:
            raise ImageNotFound()  # bytes without a row are not an image (see permissions)
        record = _record(row)
        if row.color_space is not None:
            return record, _row_facts(row, row.color_space)
        facts = describe(services.storage.get(ref))  # a row from before migration 0002
        row.orientation = facts.orientation
        row.color_space = facts.color_space
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # a concurrent request filled it in first
        return record, facts


# --- Uploads -------------------------------------------------------------------------------


def image_row(ref: ImageRef, facts: ImageFacts, owner: str | None, public: bool) -> Image:
    """A new `Image` row from the output of `describe`."""
    return Image(
        hash=ref.hash,
        bytes=facts.bytes,
        format=facts.format,
        width=facts.width,
        height=facts.height,
        has_alpha=facts.has_alpha,
        frames=facts.frames,
        orientation=facts.orientation,
        color_space=facts.color_space,
        public=public,
        owner=_clip(owner),
        exif=facts.exif,
        placeholder=facts.placeholder,
        dominant_color=facts.dominant_color,
    )


def _usage(session: Session, owner: str | None) -> tuple[int, int]:
    """(images, bytes) the owner's images count; anonymous uploads share one account."""
    owned = Image.owner.is_(None) if owner is None else Image.owner == _clip(owner)
    query = select(func.count(Image.hash), func.coalesce(func.sum(Image.bytes), 0)).where(owned)
    count, total = session.execute(query).one()
    return int(count), int(total)


def _check_quota(
    session: Session, services: Services, ref: ImageRef, size: int, owner: str | None
) -> None:
    settings = services.settings
    max_images, max_bytes = settings.quota_images, int(settings.quota_bytes)
    if not (max_images or max_bytes) or queries.get_image(session, ref.hash) is not None:
        return  # no quota, or bytes already stored: a second upload costs no storage
    count, total = _usage(session, owner)
    who = f"user {owner!r}" if owner else "anonymous uploads"
    if max_images and count + 1 > max_images:
        raise QuotaExceeded(f"{who} already own {count} images, the quota is {max_images}")
    if max_bytes and total + size > max_bytes:
        raise QuotaExceeded(
            f"{who} store {total} bytes; {size} more would exceed the quota of {max_bytes} bytes"
        )


def check_quota(services: Services, ref: ImageRef, size: int, owner: str | None) -> None:
    """`QuotaExceeded` when storing `size` new bytes would take `owner` over a quota."""
    with Session(services.require_database()) as session:
        _check_quota(session, services, ref, size, owner)


def record_upload(
    services: Services, ref: ImageRef, data: bytes, facts: ImageFacts, uploader: Uploader
) -> tuple[ImageRecord, bool]:
    """Store the bytes and record the upload, both or neither; the image's record, and whether
    this call stored the bytes (False: they were stored already).

    Bytes already stored keep their one `Image` row (first owner and visibility win) and gain
    an `Upload` row. A concurrent first upload of the same bytes that wins the row is retried
    once, as a duplicate.
    """
    try:
        record, stored_here = _record_upload(services, ref, data, facts, uploader)
    except IntegrityError:  # another upload inserted this image's row first
        record, stored_here = _record_upload(services, ref, data, facts, uploader)
    _memory(services.require_database()).public.confirmed(ref.hash, record)
    return record, stored_here


def _record_upload(
    services: Services, ref: ImageRef, data: bytes, facts: ImageFacts, uploader: Uploader
) -> tuple[ImageRecord, bool]:
    storage = services.storage
    public = services.settings.default_public if uploader.public is None else uploader.public
    with Session(services.require_database()) as session:  # leaving without a commit rolls back
        _check_quota(session, services, ref, len(data), uploader.user)
        row = queries.get_image(session, ref.hash)
        if row is None:
            row = queries.add_image(session, image_row(ref, facts, uploader.user, public))
        session.add(
            Upload(
                image_hash=ref.hash,
                user=_clip(uploader.user),
                original_filename=_clip(uploader.filename),
            )
        )
        session.flush()
        record = _record(row)
        stored_here = not storage.exists(ref)
        if stored_here:
            with span("store", **{"images.hash": ref.hash}):
                storage.put(ref, data)
        try:
            session.commit()
        except BaseException:
            if stored_here:  # bytes that were here before this call stay
                storage.delete(ref)
                derivatives.delete(storage, ref)
            raise
    return record, stored_here


# --- Deletes and shares --------------------------------------------------------------------


def delete(services: Services, ref: ImageRef) -> bool:
    """Delete the row (with its uploads and grants) and the bytes; whether either existed."""
    if services.database is None:
        derivatives.delete(services.storage, ref)
        return services.storage.delete(ref)
    _memory(services.database).public.confirmed(ref.hash, None)  # first: it may go halfway
    storage = services.storage
    with Session(services.database) as session:  # leaving without a commit rolls back
        had_row = queries.delete_image(session, ref.hash)
        kept = storage.get(ref) if had_row and storage.exists(ref) else None
        derivatives.delete(storage, ref)  # before the bytes: never copies without an original
        had_bytes = storage.delete(ref)
        try:
            session.commit()
        except BaseException:
            if kept is not None:
                storage.put(ref, kept)
                if services.jobs is not None:  # until they are back, renders read the original
                    services.jobs.enqueue_derivatives(ref)
            raise
    return had_row or had_bytes


def share(services: Services, ref: ImageRef, user: str, expires_at: datetime) -> None:
    """Let `user` read the image until `expires_at`, replacing any grant they had."""
    with Session(services.require_database()) as session:
        queries.set_grant(session, ref.hash, _clip(user) or user, expires_at)
        session.commit()
