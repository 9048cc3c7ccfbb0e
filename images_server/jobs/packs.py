"""Running pack jobs: claim, build (`packs.service.run`), publish; and the periodic
housekeeping of packs (stalled jobs run again, expired packs deleted).

Publishing is two steps in a fixed order: the ZIP is stored (an atomic put), then the row is
marked done with its manifest. A job killed anywhere before the second step leaves a pack that
is not done, which the stall check hands to another worker; the half-built files of the dead
job were only ever in its memory.

A pack cancelled while its job runs stops the job at its next progress report; one cancelled
between the last report and publishing is not marked done, and its ZIP is deleted again.

A worker records which claim it runs in the queue (`queue.record_claim`, under its identity);
`resume_orphaned` releases the packs whose recorded worker is gone, so another worker resumes
them at once; the stall timeout stays the fallback for claims recorded nowhere. A job whose
pack was claimed again meanwhile (`store.Superseded`) stops without touching the pack.
"""

from __future__ import annotations

import contextlib
import logging

from huey import Huey
from sqlalchemy import Engine

from images_server.errors import ImagesError, ServiceUnavailable
from images_server.hashing import Namespace, pack_ref
from images_server.jobs import queue
from images_server.packs import service, store
from images_server.services import Services

log = logging.getLogger(__name__)

ANALYSED = 0.05  # progress once the source is analysed; rendering fills the rest


def run_pack(
    services: Services, pack_id: str, worker: str | None = None, huey: Huey | None = None
) -> bool:
    """Build the pack if this call may claim it; whether it did. Transient failures raise
    `ServiceUnavailable` (after handing the pack back to the queue); others fail the pack.

    `worker`: the identity of the worker running it, recorded with the claim in `huey`."""
    database = services.require_database()
    job = store.claim(database, pack_id, services.settings.pack_stall_timeout)
    if job is None:
        return False
    huey = huey if worker is not None else None
    if huey is not None and worker is not None:
        try:
            queue.record_claim(huey, pack_id, job.attempt, worker)
        except Exception as error:  # any storage's errors: then the stall timeout resumes it
            log.warning("pack %s: claim not recorded in the queue: %s", pack_id, error)
    try:
        return _build(services, job)
    finally:
        if huey is not None:
            with contextlib.suppress(Exception):  # a leftover key is only a few bytes
                queue.forget_claim(huey, pack_id, job.attempt)


class _Reporter:
    """Writes a running job's news into its pack's row (raising `store.Cancelled` once the
    pack is no longer this job's), and keeps count of the files done."""

    def __init__(self, database: Engine, job: store.PackJob) -> None:
        self.database, self.job = database, job
        self.done = self.total = 0

    def chosen(self, what: service.Chosen) -> None:
        self.total = what.files_total
        pack_settings = {
            "recommended": what.recommended.to_json(),
            "effective": what.pack_settings.to_json(),
        }
        store.report(
            self.database,
            self.job.id,
            ANALYSED,
            attempt=self.job.attempt,
            files_total=self.total,
            analysis=what.analysis.to_json(),
            settings=pack_settings,  # the row's column
        )

    def progress(self, fraction: float) -> None:  # called once after each file
        self.done += 1
        overall = ANALYSED + (1 - ANALYSED) * fraction * 0.999
        store.report(
            self.database, self.job.id, overall, files_done=self.done, attempt=self.job.attempt
        )


def _build(services: Services, job: store.PackJob) -> bool:
    database = services.require_database()
    pack_id, attempt = job.id, job.attempt
    reporter = _Reporter(database, job)
    try:
        built = service.run(services, job, reporter.chosen, reporter.progress)
        services.storage.put(pack_ref(pack_id, "zip"), built.zip)
        if not store.finish(database, pack_id, built.manifest, attempt):
            raise store.Cancelled(pack_id)
    except store.Superseded:  # another job runs it now: its files are its own
        log.warning("pack %s was claimed again by another job: this one stopped", pack_id)
    except store.Cancelled:
        services.storage.delete(pack_ref(pack_id, "zip"))  # published by nobody
        done, total = reporter.done, reporter.total
        log.info("pack %s was cancelled: stopped after %d of %d files", pack_id, done, total)
    except ServiceUnavailable:
        store.requeue(database, pack_id, attempt)
        raise
    except ImagesError as error:
        store.fail(database, pack_id, error.message, attempt)
    except Exception:
        log.exception("pack %s failed", pack_id)
        store.fail(database, pack_id, "internal error while building the pack", attempt)
    return True


def resume_orphaned(services: Services, huey: Huey, myself: str | None = None) -> list[str]:
    """Queue again (in the database) every processing pack whose recorded worker is gone;
    their ids, for the caller to enqueue. `myself`: the caller's own identity, never gone."""
    database = services.require_database()
    max_age = services.settings.worker_heartbeat_timeout
    released: list[str] = []
    gone: set[str] = set()
    for pack_id, attempt in store.processing(database):
        worker = queue.claimed_by(huey, pack_id, attempt)
        if worker is None or worker == myself:
            continue  # not recorded: the stall timeout decides
        if worker not in gone and not queue.worker_gone(huey, worker, max_age):
            continue
        gone.add(worker)
        if store.requeue(database, pack_id, attempt):
            log.warning("pack %s: its worker (%s) is gone; queued again", pack_id, worker)
            released.append(pack_id)
        queue.forget_claim(huey, pack_id, attempt)
    for worker in gone:
        queue.forget_worker(huey, worker)
    return released


def stalled_packs(services: Services) -> list[str]:
    """Packs whose worker stopped reporting: to be queued again."""
    return store.stalled(services.require_database(), services.settings.pack_stall_timeout)


def delete_expired(services: Services) -> int:
    """Delete the files of every pack past its retention; how many packs expired."""
    jobs = store.expire_due(services.require_database())
    for job in jobs:
        services.storage.delete(pack_ref(job.id, "zip"))
        if job.source.namespace is Namespace.PACKS:
            services.storage.delete(job.source)
            services.cache.purge(job.source)
    if jobs:
        log.info("deleted %d expired packs", len(jobs))
    return len(jobs)
