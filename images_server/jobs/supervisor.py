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

Given a `target` instead of a command, the worker is forked from this process without an
exec and runs `target` (`images_server/gunicorn_conf.py` runs `images-server worker`'s code
so): it then shares the modules the master imported before (README "Memory") instead of
importing its own copy (30 to 50 MB less). The child first puts back the default signal handlers,
lets go of every listening socket it inherited (so the port is the master's alone: it is
replaced by /dev/null), and rewrites its command line in place to `command`'s, so `ps` (and
the tests) see `python -m images_server.cli worker` as before. It never returns into its
parent's code: it ends with `os._exit`.

`stop` (gunicorn's `on_exit`) ends the thread, then stops the worker (SIGTERM: it finishes the
jobs in hand; SIGKILL after `timeout`). `watch_stop_signals` (gunicorn's `when_ready`, once the
master's own handlers are in place) notes SIGINT/SIGTERM/SIGQUIT before gunicorn handles them:
a worker that exits because the whole process group got Ctrl-C is not started again while
gunicorn shuts down.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

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


class Forked:
    """A child forked from this process (no exec) that runs `target` and exits; the part of
    `subprocess.Popen`'s interface `Supervisor` uses. `title` is the command line it shows."""

    def __init__(self, target: Callable[[], object], title: tuple[str, ...]) -> None:
        self.title = title
        self.returncode: int | None = None
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            _run_forked(target, title, parent)
        self.pid = pid

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # gunicorn's master reaped it: how it ended is lost
                self.returncode = 0  # as `Popen.poll` says then
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(list(self.title), timeout or 0.0)
            time.sleep(0.05)
        return code

    def send_signal(self, number: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, number)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _run_forked(target: Callable[[], object], title: tuple[str, ...], parent: int) -> NoReturn:
    """The forked child: made a process of its own, then `target`, then `os._exit`."""
    code = 1
    try:
        _die_with_parent()
        if os.getppid() != parent:  # the parent ended before the line above took effect
            os._exit(1)
        _default_signals()
        _release_listeners()
        retitle(title)
        target()
        code = 0
    except SystemExit as exit_:  # click's commands end so
        code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    except BaseException:
        log.exception("the job worker failed")
    finally:
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # closed, or a broken pipe
                stream.flush()
        os._exit(code)


def _default_signals() -> None:
    """The handlers a fresh interpreter has, in place of the parent's (gunicorn's)."""
    signal.set_wakeup_fd(-1)
    for number in signal.valid_signals():
        try:
            handler = signal.getsignal(number)
        except ValueError:
            continue
        if callable(handler) and handler is not signal.default_int_handler:
            signal.signal(number, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_SETMASK, ())


def _release_listeners() -> None:
    """Point every inherited listening socket's descriptor at /dev/null: the port is not ours
    to hold, and the number stays taken, so a socket object closing it later closes nothing
    of ours."""
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            try:
                if fd == devnull or not os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                    continue
                probe = socket.socket(fileno=fd)
            except OSError:  # the listing's own descriptor, closed since
                continue
            try:
                listening = probe.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
            except OSError:
                listening = 0
            finally:
                probe.detach()
            if listening:
                os.dup2(devnull, fd, inheritable=False)
    finally:
        os.close(devnull)


def retitle(words: tuple[str, ...]) -> bool:
    """Rewrite this process's command line (/proc/self/cmdline, what `ps` shows) to `words`,
    in place, when they fit in the room the original has; whether it was rewritten."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        start, end = int(fields[45]), int(fields[46])  # arg_start, arg_end (man 5 proc)
        current = Path("/proc/self/cmdline").read_bytes()
    except (OSError, IndexError, ValueError):
        return False
    text = b"\0".join(os.fsencode(word) for word in words) + b"\0"
    room = end - start
    if start <= 0 or len(text) > room or ctypes.string_at(start, room) != current[:room]:
        return False
    ctypes.memmove(start, text.ljust(room, b"\0"), room)
    return True


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

    def __init__(
        self,
        command: tuple[str, ...] = WORKER_COMMAND,
        target: Callable[[], object] | None = None,
    ) -> None:
        self.command = command  # run; with a `target`, only the command line it shows
        self.target = target  # forked to, when given (see above)
        self.restarts = 0
        self._process: subprocess.Popen[bytes] | Forked | None = None
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
        if self.target is not None:
            self._process = Forked(self.target, self.command)
        else:
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
