"""Pack rows: created by `POST /packs`, claimed and advanced by a worker, expired by cleanup.

A pack is run by whoever *claims* it: one UPDATE that succeeds only for a pack that is queued,
or processing but silent for longer than the stall timeout (its worker died). While it runs,
each progress report refreshes `updated_at`, so a live job is never claimed twice. Progress
only rises (`max` of old and new), also when a killed job starts over. A pack is `done` only
in the same transaction that records its manifest, after its ZIP is stored: a reader never
sees a done pack without its files. After `MAX_ATTEMPTS` claims it is failed.

Each claim raises `attempts`, and a job writes only while the row's `attempts` is still the one
its claim set: a job whose pack was claimed again meanwhile (its worker was taken for dead) is
*superseded* and stops at its next report, publishing nothing and deleting nothing, so two jobs
never both write one pack. A processing pack whose worker is known to be gone is *released*
(queued again, conditionally on that same attempt) without waiting for the stall timeout.

A queued or processing pack may be *cancelled*: it is never claimed again, and a job running
it finds out at its next progress report (which then changes nothing and raises `Cancelled`),
or at the latest when it would mark it done, which then does not happen either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, case, delete, or_, select, true, update
from sqlalchemy.orm import Session

from images_server.db.models import Pack, utcnow
from images_server.hashing import ImageRef, Namespace, pack_ref

MAX_ATTEMPTS = 3
TOMBSTONE_DAYS = 7  # an expired pack answers 410 this long, then 404
UNFINISHED = ("queued", "processing")


class Cancelled(Exception):
    """The pack is no longer being processed (cancelled, or expired): its job must stop."""


class Superseded(Cancelled):
    """The pack was claimed again by another job: this one must stop and leave it alone."""


@dataclass(frozen=True)
class PackJob:
    """What a worker needs to run one pack."""

    id: str
    source: ImageRef
    source_name: str
    source_hash: str
    options: dict[str, Any]
    attempt: int = 0  # the claim that made this job (the row's `attempts` then)


def _job(row: Pack) -> PackJob:
    namespace = Namespace(row.source_namespace)
    own_copy = namespace is Namespace.PACKS
    source = pack_ref(row.id, "source") if own_copy else ImageRef(namespace, row.source_hash)
    options = dict(row.options)
    return PackJob(row.id, source, row.source_name, row.source_hash, options, row.attempts)


def _mine(attempt: int | None) -> ColumnElement[bool]:
    """The condition that the row is still this job's claim (always true without one)."""
    return Pack.attempts == attempt if attempt is not None else true()


def _stopped(session: Session, pack_id: str, attempt: int | None) -> Cancelled:
    """Why a job's write matched no row: claimed again by another job, or cancelled/ended."""
    row = session.get(Pack, pack_id)
    taken = row is not None and row.status == "processing" and row.attempts != attempt
    return Superseded(pack_id) if taken and attempt is not None else Cancelled(pack_id)


def create(database: Engine, row: Pack) -> None:
    with Session(database) as session:
        session.add(row)
        session.commit()


def get(database: Engine, pack_id: str) -> Pack | None:
    with Session(database) as session:
        return session.get(Pack, pack_id)


def discard(database: Engine, pack_id: str) -> None:
    """Delete the row of a pack that was never accepted (its job could not be queued)."""
    with Session(database) as session:
        session.execute(delete(Pack).where(Pack.id == pack_id))
        session.commit()


def claim(database: Engine, pack_id: str, stall_seconds: int) -> PackJob | None:
    """Take the pack to run it; None when it is done, failed, expired or running elsewhere."""
    now = utcnow()
    stale = now - timedelta(seconds=stall_seconds)
    with Session(database) as session:
        result = session.execute(
            update(Pack)
            .where(
                Pack.id == pack_id,
                Pack.expires_at > now,
                or_(
                    Pack.status == "queued",
                    (Pack.status == "processing") & (Pack.updated_at < stale),
                ),
            )
            .values(status="processing", attempts=Pack.attempts + 1, updated_at=now, error=None)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            return None
        row = session.get(Pack, pack_id)
        assert row is not None
        if row.attempts > MAX_ATTEMPTS:
            row.status = "failed"
            row.error = f"the job stopped {MAX_ATTEMPTS} times without finishing"
            session.commit()
            return None
        job = _job(row)
        session.commit()
        return job


def report(
    database: Engine,
    pack_id: str,
    progress: float,
    files_done: int = 0,
    attempt: int | None = None,
    **fields: Any,
) -> None:
    """Raise the progress and the files done (never lowers them), refresh the heartbeat, set
    other columns; `Cancelled` (and nothing changed) if the pack is no longer processing, or
    `Superseded` if it is no longer the claim `attempt`'s."""
    risen = case((Pack.progress < progress, progress), else_=Pack.progress)
    more = case((Pack.files_done < files_done, files_done), else_=Pack.files_done)
    with Session(database) as session:
        result = session.execute(
            update(Pack)
            .where(Pack.id == pack_id, Pack.status == "processing", _mine(attempt))
            .values(progress=risen, files_done=more, updated_at=utcnow(), **fields)
        )
        session.commit()
        if not result.rowcount:  # type: ignore[attr-defined]
            raise _stopped(session, pack_id, attempt)


def finish(
    database: Engine, pack_id: str, manifest: dict[str, Any], attempt: int | None = None
) -> bool:
    """Mark the pack done with its manifest; False if it was cancelled meanwhile, or
    `Superseded` if it is no longer the claim `attempt`'s."""
    files = manifest.get("files")
    count = len(files) if isinstance(files, list) else 0
    with Session(database) as session:
        result = session.execute(
            update(Pack)
            .where(Pack.id == pack_id, Pack.status == "processing", _mine(attempt))
            .values(
                status="done",
                progress=1.0,
                files_done=count,
                files_total=count,
                manifest=manifest,
                updated_at=utcnow(),
            )
        )
        session.commit()
        if not result.rowcount:  # type: ignore[attr-defined]
            stopped = _stopped(session, pack_id, attempt)
            if isinstance(stopped, Superseded):
                raise stopped
            return False
    return True


def cancel(database: Engine, pack_id: str) -> bool:
    """Cancel a queued or processing pack; False if it had already ended (done, failed...)."""
    with Session(database) as session:
        result = session.execute(
            update(Pack)
            .where(Pack.id == pack_id, Pack.status.in_(UNFINISHED))
            .values(status="cancelled", updated_at=utcnow())
        )
        session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def requeue(database: Engine, pack_id: str, attempt: int | None = None) -> bool:
    """Hand the pack back to the queue (a transient failure: huey retries it; or its worker
    is gone), if it is still processing under the claim `attempt`; whether it was."""
    with Session(database) as session:
        result = session.execute(
            update(Pack)
            .where(Pack.id == pack_id, Pack.status == "processing", _mine(attempt))
            .values(status="queued", updated_at=utcnow())
        )
        session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def fail(database: Engine, pack_id: str, message: str, attempt: int | None = None) -> None:
    """Mark the pack failed, unless it was cancelled (or ended, or claimed again) meanwhile."""
    with Session(database) as session:
        session.execute(
            update(Pack)
            .where(Pack.id == pack_id, Pack.status.in_(UNFINISHED), _mine(attempt))
            .values(status="failed", error=message, updated_at=utcnow())
        )
        session.commit()


def stalled(database: Engine, stall_seconds: int) -> list[str]:
    """Packs queued or processing with no news for longer than the stall timeout."""
    now = utcnow()
    stale = now - timedelta(seconds=stall_seconds)
    query = select(Pack.id).where(
        Pack.status.in_(UNFINISHED), Pack.updated_at < stale, Pack.expires_at > now
    )
    with Session(database) as session:
        return list(session.execute(query).scalars())


def processing(database: Engine) -> list[tuple[str, int]]:
    """Every pack being processed (not expired), with the attempt that claimed it."""
    query = select(Pack.id, Pack.attempts).where(
        Pack.status == "processing", Pack.expires_at > utcnow()
    )
    with Session(database) as session:
        return [(pack_id, attempts) for pack_id, attempts in session.execute(query)]


def expire_due(database: Engine, now: datetime | None = None) -> list[PackJob]:
    """Mark every pack past its retention expired (its heavy columns emptied); their jobs, so
    the caller can delete their files. Tombstones older than `TOMBSTONE_DAYS` are deleted."""
    now = now or utcnow()
    with Session(database) as session:
        rows = list(
            session.execute(
                select(Pack).where(Pack.expires_at <= now, Pack.status != "expired")
            ).scalars()
        )
        jobs = [_job(row) for row in rows]
        for row in rows:
            row.status = "expired"
            row.options, row.analysis, row.settings, row.manifest = {}, None, None, None
        session.execute(delete(Pack).where(Pack.expires_at <= now - timedelta(days=TOMBSTONE_DAYS)))
        session.commit()
    return jobs
