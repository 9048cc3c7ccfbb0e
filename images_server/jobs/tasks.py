"""The tasks, registered on one huey instance, and how the app enqueues them.

`Jobs` registers each task on the queue with a stable name, so the web process (which only
enqueues) and `images-server worker` (which runs them) agree, whatever imports them. It is made
by `images_server.wiring` with the services its tasks run on: every part but the queue (a task
never enqueues through `Services`; a pack is queued again through `Jobs` itself), so the
`Services` that holds the queue is never pointed back at. Requests see `Jobs` as a
`services.JobQueue`.

Failures: a backing service that is down (`ServiceUnavailable`: storage, database, a render
deadline) is transient, retried `RETRIES` times with exponential backoff from `RETRY_DELAY`
seconds; anything else about the image (gone, undecodable, over a limit) is permanent and
cancels the task at once. Enqueueing never fails an upload: a queue that is down is logged and
the variants are rendered by their first visitor instead.

Packs left by a dead worker are queued again by `requeue_stalled` (at every worker's start and
each minute) and `resume_orphaned` (also every few seconds, from the worker's watch thread):
as soon as their worker is known to be gone, else after the stall timeout.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from huey import Huey, crontab
from huey.exceptions import CancelExecution

from images_server.derivatives import build as build_derivatives
from images_server.derivatives import eligible
from images_server.derivatives import enabled as derivatives_enabled
from images_server.errors import ImagesError, ServiceUnavailable
from images_server.faces import detect as detect_faces
from images_server.formats.sniff import SourceInfo
from images_server.hashing import ImageRef, parse_hash
from images_server.jobs.packs import delete_expired, resume_orphaned, run_pack, stalled_packs
from images_server.jobs.queue import check_queue, check_workers
from images_server.jobs.variants import warm_variants
from images_server.services import Services

log = logging.getLogger(__name__)

RETRIES = 5
RETRY_DELAY = 2.0  # seconds before the first retry; doubled before each next one
RETRY_BACKOFF = 2.0


class Jobs:
    """The queue and its tasks, which run on `services`.

    `identity`: the job worker running the tasks in this process (`images-server worker`,
    see queue.py); None where tasks are only enqueued."""

    def __init__(
        self,
        huey: Huey,
        services: Services,
        identity: str | None = None,
        retry_delay: float = RETRY_DELAY,
    ) -> None:
        self.huey = huey
        self.services = services
        self.identity = identity
        retrying = partial(
            huey.task, retries=RETRIES, retry_delay=retry_delay, retry_backoff=RETRY_BACKOFF
        )
        self._after_upload = retrying(name="after_upload")(self._run_after_upload)
        # jobs queued by earlier versions, which queued these two apart
        self._warm = retrying(name="warm_variants")(self._run_warm_variants)
        self._derive = retrying(name="build_derivatives")(self._run_derivatives)
        self._pack = retrying(name="build_pack")(self._run_pack)
        huey.periodic_task(crontab(minute="*"), name="requeue_stalled_packs")(self.requeue_stalled)
        huey.periodic_task(crontab(minute="*/10"), name="delete_expired_packs")(self._cleanup)
        huey.on_startup(name="requeue_stalled_at_start")(self.requeue_stalled)

    def enqueue_after_upload(self, ref: ImageRef, info: SourceInfo | None = None) -> bool:
        """Queue one job for a new original: its derivatives (when on and `info` says it gets
        some), then its eager variants, which read them. False (logged) if the queue is down
        or there is nothing to do. One job, so a hung queue costs an upload one timeout."""
        settings = self.services.settings
        derive = info is not None and derivatives_enabled(self.services) and eligible(info)
        warm = bool(settings.eager_presets and settings.eager_formats)
        faces = settings.faces and self.services.database is not None
        if not derive and not warm and not faces:
            return False
        try:
            self._after_upload(ref.hash, derive, warm, faces)
        except Exception as error:  # any storage's connection error: never fail the upload
            log.warning("derivatives and eager variants of %s not queued: %s", ref.hash, error)
            return False
        return True

    def enqueue_derivatives(self, ref: ImageRef) -> bool:
        """Queue the derivatives of an original (derivatives.py); False (logged) if they are
        off or the queue is down: renders then read the original, as they do until then."""
        if not derivatives_enabled(self.services):
            return False
        try:
            self._derive(ref.hash)
        except Exception as error:  # any storage's connection error: never fail the upload
            log.warning("derivatives of %s not queued: %s", ref.hash, error)
            return False
        return True

    def enqueue_pack(self, pack_id: str) -> None:
        """Queue a pack job (raises when the queue is down: the pack cannot start)."""
        self._pack(pack_id)

    def waiting(self) -> int:
        """Jobs waiting; `ServiceUnavailable` when the queue cannot be read."""
        return check_queue(self.huey)

    def check_workers(self, max_age: float, started: float, waiting: int) -> str | None:
        """See `queue.check_workers`."""
        return check_workers(self.huey, max_age, started, waiting)

    def requeue_stalled(self) -> int:
        """Queue again every pack whose worker is gone or whose job stopped reporting; how
        many."""
        resumed = self.resume_orphaned()
        stalled = [pack for pack in stalled_packs(self.services) if pack not in resumed]
        for pack_id in stalled:
            self._pack(pack_id)
        return len(resumed) + len(stalled)

    def resume_orphaned(self) -> list[str]:
        """Queue again every pack whose recorded worker is gone; their ids."""
        released = resume_orphaned(self.services, self.huey, self.identity)
        for pack_id in released:
            self._pack(pack_id)
        return released

    def _cleanup(self) -> int:
        return delete_expired(self.services)

    def _run_pack(self, pack_id: str) -> bool:
        return run_pack(self.services, pack_id, self.identity, self.huey)

    def _run_derivatives(self, image_hash: str) -> int:
        def job() -> int:
            return len(build_derivatives(self.services, parse_hash(image_hash)).levels)

        return _permanent_or_retry(job)

    def _run_after_upload(
        self, image_hash: str, derive: bool, warm: bool, faces: bool = False
    ) -> int:
        def job() -> int:
            ref = parse_hash(image_hash)
            if faces:  # first: it purges the image's variants, so none is warmed before it
                detect_faces(self.services, ref)
            done = len(build_derivatives(self.services, ref).levels) if derive else 0
            return done + (warm_variants(self.services, ref) if warm else 0)

        return _permanent_or_retry(job)  # a retry finds the derivatives built: one read

    def _run_warm_variants(self, image_hash: str) -> int:
        return _permanent_or_retry(lambda: warm_variants(self.services, parse_hash(image_hash)))


def _permanent_or_retry(job: Callable[[], int]) -> int:
    try:
        return job()
    except ServiceUnavailable:
        raise  # huey retries it, with backoff
    except ImagesError as error:
        log.warning("job cancelled, it cannot succeed: %s (%s)", error.message, error.code)
        raise CancelExecution(retry=False) from error
