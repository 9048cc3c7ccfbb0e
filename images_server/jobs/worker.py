"""`run_worker(settings)`: a huey consumer running this server's tasks until SIGTERM/SIGINT.

Threads, not processes: the work is libvips and ImageMagick, which release the GIL, and the
services (engine, storage clients, database pool) are built once and shared. Huey's consumer
polls the SQLite queue with a short backoff (at most `MAX_POLL_DELAY` seconds), so a job is
picked up within a second; Redis wakes it at once. On SIGTERM the consumer finishes the jobs in
hand before it exits (huey's graceful shutdown).

A daemon thread `beat`s into the queue every `heartbeat_interval` seconds, from before the
first job to the process's end, so readiness can tell when queued jobs have no worker left
(`images_server.jobs.queue.check_workers`). It runs beside the job threads, so a long render
does not silence it. It beats under the worker's own identity too, and the worker records that
identity with each pack it claims; a second daemon thread looks every `heartbeat_interval`
seconds for packs whose recorded worker is gone and queues them again
(`Jobs.resume_orphaned`), so a pack whose worker was killed is resumed within seconds of
another worker being up, not after the stall timeout.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from huey import Huey

from images_server.db.engine import safe_url
from images_server.db.migrate import migrate_embedded
from images_server.jobs.queue import beat, forget_worker, worker_identity
from images_server.jobs.tasks import Jobs
from images_server.settings import Settings
from images_server.wiring import build

MAX_POLL_DELAY = 0.5
MAX_HEARTBEAT_INTERVAL = 15.0

log = logging.getLogger(__name__)


def heartbeat_interval(settings: Settings) -> float:
    """Often enough that a live worker never looks gone: four beats per timeout, at most
    every `MAX_HEARTBEAT_INTERVAL` seconds."""
    return min(MAX_HEARTBEAT_INTERVAL, settings.worker_heartbeat_timeout / 4)


def _repeat(
    what: str, action: Callable[[], object], interval: float, stop: threading.Event
) -> None:
    failing = False
    while True:
        try:
            action()
        except Exception as error:  # any storage's errors: the next round may get through
            if not failing:
                log.warning("%s failed: %s", what, error)
            failing = True
        else:
            failing = False
        if stop.wait(interval):
            return


def start_heartbeat(huey: Huey, interval: float, worker: str | None = None) -> threading.Event:
    """Beat now and every `interval` seconds in a daemon thread (also under the identity
    `worker`, when given); set the event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=_repeat,
        args=("worker heartbeat", lambda: beat(huey, worker=worker), interval, stop),
        name="heartbeat",
        daemon=True,
    )
    thread.start()
    return stop


def start_watch(jobs: Jobs, interval: float, stop: threading.Event) -> None:
    """Every `interval` seconds, queue again the packs whose worker is gone (a daemon
    thread, stopped with the heartbeat's event)."""
    thread = threading.Thread(
        target=_repeat,
        args=("looking for packs of dead workers", jobs.resume_orphaned, interval, stop),
        name="watch",
        daemon=True,
    )
    thread.start()


def run_worker(settings: Settings) -> None:
    """Build the services and consume jobs until stopped."""
    migrate_embedded(settings)  # the embedded database, as the web process does
    identity = worker_identity()
    jobs = build(settings, worker=identity).jobs
    queue = safe_url(settings.queue_url_or_default)
    if jobs is None:
        raise RuntimeError(f"the job queue {queue} cannot be opened")
    consumer = jobs.huey.create_consumer(
        workers=settings.queue_workers,
        worker_type="thread",
        initial_delay=0.05,
        backoff=1.5,
        max_delay=MAX_POLL_DELAY,
        periodic=True,
    )
    log.info("worker %s: %d threads on %s", identity, settings.queue_workers, queue)
    interval = heartbeat_interval(settings)
    stop = start_heartbeat(jobs.huey, interval, identity)
    start_watch(jobs, interval, stop)
    try:
        consumer.run()
    finally:
        stop.set()
        try:
            forget_worker(jobs.huey, identity)
        except Exception as error:  # the queue is down: the key is only a few bytes
            log.warning("worker heartbeat not removed: %s", error)
