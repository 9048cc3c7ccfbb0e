"""`run_worker(settings)`: a huey consumer running this server's tasks until SIGTERM/SIGINT.

Threads, not processes: the work is libvips and ImageMagick, which release the GIL, and the
services (engine, storage clients, database pool) are built once and shared. Huey's consumer
polls the SQLite queue with a short backoff (at most `MAX_POLL_DELAY` seconds), so a job is
picked up within a second; Redis wakes it at once. On SIGTERM the consumer finishes the jobs in
hand before it exits (huey's graceful shutdown).
"""

from __future__ import annotations

import logging

from images_server.app import migrate_embedded
from images_server.services import build_services
from images_server.settings import Settings

MAX_POLL_DELAY = 0.5

log = logging.getLogger(__name__)


def run_worker(settings: Settings) -> None:
    """Build the services and consume jobs until stopped."""
    migrate_embedded(settings)  # the embedded database, as the web process does
    services = build_services(settings)
    if services.jobs is None:
        raise RuntimeError(f"the job queue {settings.queue_url_or_default} cannot be opened")
    consumer = services.jobs.huey.create_consumer(
        workers=settings.queue_workers,
        worker_type="thread",
        initial_delay=0.05,
        backoff=1.5,
        max_delay=MAX_POLL_DELAY,
        periodic=True,
    )
    log.info("worker: %d threads on %s", settings.queue_workers, settings.queue_url_or_default)
    consumer.run()
