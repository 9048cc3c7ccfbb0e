"""gunicorn's settings for images-server: `gunicorn -c python:images_server.gunicorn_conf`.

`images-server serve` runs gunicorn with this file; it can also be used directly, and any
setting here can still be overridden with `GUNICORN_CMD_ARGS`. Values come from the `IMAGES_*`
settings: the bind address, `IMAGES_WORKERS` workers of `IMAGES_THREADS` threads each, and a
worker timeout above the longest a request may legitimately take (an `/external` fetch, then
a render), so gunicorn only kills workers the in-process deadline failed to stop. Workers are
recycled after about `max_requests` requests, jittered so they do not all restart together.
The web workers share one render gate, made here before the fork (`images_server.admission`;
the master gives back the slots of a worker that died) and one table of the connections each
holds, so each accepts only its share (`images_server.worker_loads`); each answers what
gunicorn itself refuses as JSON (`images_server.gunicorn_workers`).

Metrics: every start gets a fresh, empty `PROMETHEUS_MULTIPROC_DIR` (the operator's, emptied,
or a new temporary directory, removed at exit), set here before any worker imports
prometheus-client, so `/metrics` sums all workers; a dead worker's live gauges are dropped.

The job worker: on the embedded defaults (no `IMAGES_QUEUE_URL`) the master starts one
`images-server worker` beside the web workers, starts it again whenever it dies (with a backoff:
images_server/jobs/supervisor.py) and stops it when it exits (docs/api.md §8: a worker
started beside the web process); with a shared queue, workers are run on their own.
`images-server serve --worker/--no-worker` decides instead (`IMAGES_SERVE_WORKER`, a setting).

Memory (README "Memory", `make bench-memory`): the master imports, before it forks, the modules
every worker imports (the app, the render spine, the job worker's code and, with the default
vips engine, libvips), then freezes them out of the garbage collector's sight (`gc.freeze`), so
the workers share those pages instead of each importing its own copy. Importing starts no
thread (libvips starts its workers at the first render, which the master never does) and
opens nothing: each worker still builds its app, database engine and queue after the fork.
ImageMagick (`IMAGES_ENGINE=wand`) is loaded in each worker, after the fork, as before. Each
worker returns the heap its renders freed to the system, and large blocks are mapped on their
own (`images_server.memory`).

`MALLOC_ARENA_MAX=2` (which keeps glibc from giving each thread its own arena and so bounds
resident memory) is read when a process starts, so it cannot be set here: `images-server
serve` exports it before starting gunicorn; export it yourself when running gunicorn directly.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from images_server.settings import Settings, load_settings

_settings = load_settings()


def _metrics_dir() -> tuple[str, bool]:
    """A fresh multiprocess directory and whether this process made it (then removed at exit)."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):  # a previous run's counts are not this run's
            stale.unlink()
        return given, False
    return tempfile.mkdtemp(prefix="images-server-metrics-"), True


# Before anything imports prometheus-client: it picks its value store once, at import, and
# the workers inherit what this process imported.
_multiproc_dir, _made_multiproc_dir = _metrics_dir()
os.environ["PROMETHEUS_MULTIPROC_DIR"] = _multiproc_dir

from images_server import admission, memory  # noqa: E402 - after the above
from images_server.gunicorn_workers import JsonThreadWorker  # noqa: E402 - after the above
from images_server.jobs.supervisor import Supervisor  # noqa: E402 - after the above
from images_server.observability.logs import logging_config  # noqa: E402 - after the above
from images_server.worker_loads import WorkerLoads  # noqa: E402 - after the above

# libvips and ImageMagick read these in each worker, after the fork: one thread each.
os.environ.setdefault("VIPS_CONCURRENCY", "1")
os.environ.setdefault("MAGICK_THREAD_LIMIT", "1")
memory.tune_malloc()  # large blocks mapped on their own, here and in every fork (memory.py)

_host = f"[{_settings.host}]" if ":" in _settings.host else _settings.host
bind = [f"{_host}:{_settings.port}"]
workers = _settings.workers
threads = _settings.threads
# gunicorn's own workers, answering what they refuse as JSON (images_server/gunicorn_workers.py)
_WORKERS = "images_server.gunicorn_workers"
worker_class = f"{_WORKERS}.JsonThreadWorker" if threads > 1 else f"{_WORKERS}.JsonSyncWorker"
timeout = math.ceil(_settings.render_timeout + _settings.external_timeout) + 5
graceful_timeout = timeout  # a stopping worker finishes the renders it has started
keepalive = 5
# A restart costs a second of start-up on a busy CPU (its first renders are slower too: the
# bench saw 600-800 ms at the p99 of the runs it fell in), and cached variants are served at
# 1,800 a second a worker: rarely, a leak's bound rather than a routine.
max_requests = 1_000_000
max_requests_jitter = 100_000
_SHM = "/dev/shm"  # noqa: S108 - gunicorn's own advice for its heartbeat files
if Path(_SHM).is_dir():  # the heartbeat file: never on a slow or full disk
    worker_tmp_dir = _SHM
# gunicorn's control socket sits at one path per user: two servers (or test runs) on a host
# would take it from each other. Nothing here uses `gunicornc`.
control_socket_disable = True
loglevel = "info"
logconfig_dict = logging_config(loglevel)
logger_class = f"{_WORKERS}.AppLogsAccess"  # the app writes the access line
wsgi_app = "images_server.app:create_app()"


# One render gate for the whole server, in shared memory: made here, before the fork.
_render_gate = admission.create_shared(_settings)
# The connections each threaded worker holds, so each accepts only its share (worker_loads.py).
_worker_loads = WorkerLoads(rows=64)  # gunicorn's most workers (`TTIN` may add some)


# What every web worker (and the job worker) imports; the engine's package is added below.
PRELOADED = (
    "images_server.app",
    "images_server.render",
    "images_server.jobs.worker",
    "images_server.cli",
)


def _preload(settings: Settings) -> None:
    """Import what every worker imports, once, here: the workers share it (see above)."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError
    from sqlalchemy.orm import configure_mappers

    gc.disable()  # no collection in between: fewer holes in the pages the workers share
    for module in PRELOADED:
        importlib.import_module(module)
    if settings.engine == "vips":  # libvips starts no thread until it renders; ImageMagick may
        importlib.import_module("images_server.engines.vips")
    with contextlib.suppress(ArgumentError):  # a bad URL: each worker says so
        make_url(settings.database_url_or_default).get_dialect()  # its dialect's modules
    # SQLAlchemy sets its ORM mappers up at their first use: here, once, not in every worker
    # (measured: 7 MB less private memory per worker; no connection is made).
    configure_mappers()
    gc.collect()
    gc.freeze()  # the workers' collections never touch (and so never copy) these objects
    gc.enable()
    memory.trim()  # what importing freed goes back, not into every worker


if _settings.preload:
    _preload(_settings)


def post_fork(server: Any, worker: Any) -> None:
    admission.use(_render_gate)  # the server's render slots and wait queue
    worker.client_grace = _settings.client_timeout  # images_server/client_deadlines.py
    memory.start_trimming()  # freed heap back to the system (images_server/memory.py)
    if isinstance(worker, JsonThreadWorker):
        worker.share_loads(_worker_loads, recycle_growth=_settings.recycle_growth_mb << 20)


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    freed = _render_gate.release_dead(worker.pid)  # a worker killed mid-render
    if freed:
        server.log.info("gave back %d render slot(s) held by worker %s", freed, worker.pid)

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
    _worker_loads.free(worker.pid)


def worker_exit(server: Any, worker: Any) -> None:
    from images_server.gunicorn_workers import refuse_backlog
    from images_server.observability import tracing

    if getattr(worker, "stopping", False):  # told to stop: nobody will accept these any more
        refuse_backlog(worker.sockets)  # what the worker did not answer while closing them
    tracing.shutdown()  # spans still batched go out before the worker is gone


_job_worker: list[Supervisor] = []  # images_server/jobs/supervisor.py: restarted if it dies


def _wants_job_worker() -> bool:
    choice = _settings.serve_worker
    return _settings.queue_url is None if choice == "auto" else choice


def _run_job_worker() -> None:
    """`images-server worker`, in a child forked from the master (`Supervisor`'s target)."""
    from images_server.cli import main

    main(["worker"], prog_name="images-server")


def on_starting(server: Any) -> None:
    if _wants_job_worker():
        # Forked from here when preloaded: the job worker shares the master's imports too.
        supervisor = Supervisor(target=_run_job_worker if _settings.preload else None)
        supervisor.start()
        _job_worker.append(supervisor)


def when_ready(server: Any) -> None:
    for supervisor in _job_worker:  # the master's signal handlers are in place now
        supervisor.watch_stop_signals()


def on_exit(server: Any) -> None:
    for supervisor in _job_worker:
        supervisor.stop(timeout=graceful_timeout)
    if _made_multiproc_dir:
        shutil.rmtree(_multiproc_dir, ignore_errors=True)
