"""`Supervisor`: the job worker `images-server serve` runs beside gunicorn, started again
whenever it dies.

It lives in gunicorn's master (`images_server/gunicorn_conf.py`): `start` runs the worker, then
a daemon thread looks at it every `POLL` seconds. A worker that has exited is logged (how it
ended) and started again after a delay: `FIRST_DELAY`, doubled after each worker that lived
less than `STABLE` seconds, at most `MAX_DELAY`, so a worker that cannot start is retried
every half minute instead of in a tight loop, and one that ran a while comes back in a second.

Each worker gets SIGTERM when the thread that started it ends (`PR_SET_PDEATHSIG`, set between
fork and exec), so it dies with the master even when the master is SIGKILLed. gunicorn's master
reaps every child (`waitpid(-1)`), this one too: then the exit status is lost, and the worker is
only known to have ended.

`stop` (gunicorn's `on_exit`) ends the thread, then stops the worker (SIGTERM: it finishes the
jobs in hand; SIGKILL after `timeout`). `watch_stop_signals` (gunicorn's `when_ready`, once the
master's own handlers are in place) notes SIGINT/SIGTERM/SIGQUIT before gunicorn handles them:
a worker that exits because the whole process group got Ctrl-C is not started again while
gunicorn shuts down.
"""

from __future__ import annotations

import ctypes
import logging
import signal
import subprocess
import sys
import threading
import time
from types import FrameType
from typing import Any

POLL = 0.5  # seconds between looks at the worker
FIRST_DELAY = 1.0  # seconds before the first restart
MAX_DELAY = 30.0
STABLE = 60.0  # a worker that lived this long resets the delay

_PR_SET_PDEATHSIG = 1
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)

log = logging.getLogger(__name__)

WORKER_COMMAND = (sys.executable, "-m", "images_server.cli", "worker")


def _die_with_parent() -> None:
    """In the worker, between fork and exec: SIGTERM when the thread that started it ends."""
    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _ended(code: int | None) -> str:
    if code is None or code == 0:
        return "exited"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


class Supervisor:
    """One job worker process, started again whenever it ends, until `stop`."""

    def __init__(self, command: tuple[str, ...] = WORKER_COMMAND) -> None:
        self.command = command
        self.restarts = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._started_at = 0.0
        self._delay = FIRST_DELAY
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._stopping = False  # set from signal handlers: a plain flag, no lock
        self._thread: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        process = self._process
        return None if process is None else process.pid

    def start(self) -> None:
        """Start the worker now, and the thread that keeps one running."""
        with self._lock:
            self._spawn()
        self._thread = threading.Thread(target=self._watch, name="job-worker-supervisor")
        self._thread.daemon = True
        self._thread.start()

    def watch_stop_signals(self) -> None:
        """Note the master's stop signals before its own handlers run (main thread only)."""
        for number in _STOP_SIGNALS:
            previous = signal.getsignal(number)

            def noting(signum: int, frame: FrameType | None, previous: Any = previous) -> None:
                self._stopping = True
                if callable(previous):
                    previous(signum, frame)

            signal.signal(number, noting)

    def stop(self, timeout: float) -> None:
        """Stop watching, then stop the worker: SIGTERM, SIGKILL after `timeout` seconds."""
        self._stopping = True
        self._stop.set()
        with self._lock:  # no restart is under way once this is held
            process = self._process
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _spawn(self) -> None:
        self._process = subprocess.Popen(self.command, preexec_fn=_die_with_parent)
        self._started_at = time.monotonic()

    def _watch(self) -> None:
        while not self._stop.wait(POLL):
            try:
                self._restart_if_ended()
            except Exception:  # this thread must live: the next look may succeed
                log.exception("supervising the job worker failed")

    def _restart_if_ended(self) -> None:
        process = self._process
        if process is None or process.poll() is None or self._stopping:
            return
        lived = time.monotonic() - self._started_at
        if lived >= STABLE:
            self._delay = FIRST_DELAY
        delay = self._delay
        log.error(
            "the job worker (pid %d) %s after %.0f s; starting another in %.0f s",
            process.pid,
            _ended(process.returncode),
            lived,
            delay,
        )
        self._delay = min(MAX_DELAY, delay * 2)
        if self._stop.wait(delay):
            return
        with self._lock:
            if self._stopping:
                return
            self._spawn()
            self.restarts += 1
        log.warning("job worker started again (pid %d)", self.pid)
