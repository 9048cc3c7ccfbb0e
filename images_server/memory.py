"""Give the heap that renders freed back to the system: `tune_malloc()`, `start_trimming()`.

A render allocates and frees tens of megabytes (the original's bytes, libvips' regions, the
encoder's buffers), from several threads. glibc keeps what is freed inside its heaps for
reuse and returns only what lies at a heap's top, so a worker that served a few hundred renders
holds 60 to 100 MB more than it uses, for good (measured with `make bench-memory`: a web worker
at 170 MB PSS after the load, 100 MB of it free heap). `malloc_trim(0)` hands every free page
back. A daemon thread looks at the process's resident size every `interval` seconds and trims
when it has grown by `GROWTH` since the last trim, or when the process used more than `BUSY`
of a core since (what renders free when they end does not shrink the resident size by itself:
with a rule on what the last trim gave back instead, a load's final renders left 8 MB a worker
untrimmed): so once after renders, and at most once a second under load (a trim takes about
30 ms when 100 MB are released, microseconds when nothing is).
`MALLOC_ARENA_MAX=2` (set by `images-server serve`) bounds the heaps there are to trim.

`tune_malloc` fixes glibc's mmap threshold at `MMAP_THRESHOLD` (1 MiB): every larger block (an
image's pixels, an encoder's buffers) is mapped on its own and unmapped when freed. Left to
itself glibc raises the threshold (up to 32 MB) after each large block it frees, and the trim
threshold with it; then big blocks come from the heaps, and in a thread's heap (renders run on
threads of their own) what they leave at the top is neither trimmed nor reachable by
`malloc_trim` (measured: a worker kept 18 MB after its first AVIF render). An explicit
`MALLOC_MMAP_THRESHOLD_` wins. Measured on a mixed load, the CPU time is the same either way.

Outside glibc (musl, macOS) both do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import threading
import time
from collections.abc import Callable

MMAP_THRESHOLD = 1024 * 1024  # bytes: larger blocks get a mapping of their own
GROWTH = 2 * 1024 * 1024  # bytes of resident growth that call for a trim
INTERVAL = 1.0  # seconds between looks
BUSY = 0.05  # share of a core used since the last trim that calls for one (work freed memory)

_M_MMAP_THRESHOLD = -3  # mallopt's parameter (malloc.h)

log = logging.getLogger(__name__)
_PAGE = os.sysconf("SC_PAGE_SIZE")
_started_in: int | None = None  # the pid whose thread is running (a fork has none)


def _libc(name: str, *argtypes: type[ctypes.c_int | ctypes.c_size_t]) -> Callable[..., int] | None:
    """glibc's function `name` (returning an int), or None where there is none."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        function = getattr(libc, name)
    except (OSError, AttributeError):
        return None
    function.argtypes = list(argtypes)
    function.restype = ctypes.c_int
    found: Callable[..., int] = function
    return found


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim`, or None where there is none."""
    return _libc("malloc_trim", ctypes.c_size_t)


def tune_malloc(mmap_threshold: int = MMAP_THRESHOLD) -> bool:
    """Fix glibc's mmap threshold for this process and the ones it forks from now on (see
    above); whether it was set."""
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:  # the operator's choice, read by glibc itself
        return False
    mallopt = _libc("mallopt", ctypes.c_int, ctypes.c_int)
    return mallopt is not None and mallopt(_M_MMAP_THRESHOLD, mmap_threshold) == 1


def resident_bytes() -> int:
    """This process's resident set size, from /proc/self/statm."""
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * _PAGE


def private_bytes() -> int | None:
    """This process's private memory (pages no other process maps), from smaps_rollup."""
    try:
        with open("/proc/self/smaps_rollup", "rb") as rollup:
            fields = dict(line.split(b":", 1) for line in rollup.read().splitlines()[1:])
        return (
            sum(int(fields[name].split()[0]) for name in (b"Private_Clean", b"Private_Dirty"))
            * 1024
        )
    except (OSError, KeyError, ValueError):
        return None


def trim() -> bool:
    """Return the free heap to the system now; whether there was a `malloc_trim` to call."""
    function = _malloc_trim()
    if function is None:
        return False
    function(0)
    return True


def start_trimming(interval: float = INTERVAL, growth: int = GROWTH) -> bool:
    """Start the trimming thread of this process (once per process; after a fork, again);
    whether one runs. `interval` 0 turns it off."""
    global _started_in
    if interval <= 0 or _started_in == os.getpid():
        return _started_in == os.getpid()
    function = _malloc_trim()
    if function is None or not os.path.exists("/proc/self/statm"):
        return False
    _started_in = os.getpid()
    thread = threading.Thread(
        target=_trim_when_grown, args=(function, interval, growth), name="malloc-trim"
    )
    thread.daemon = True
    thread.start()
    return True


def _trim_when_grown(function: Callable[[int], int], interval: float, growth: int) -> None:
    function(0)
    floor = resident_bytes()  # right after the last trim
    worked_until = time.process_time()  # this process's CPU time at the last trim
    wait = threading.Event()
    while not wait.wait(interval):
        try:
            resident = resident_bytes()
            worked = time.process_time() - worked_until
            # Grown since the last trim, or worked since: the renders that ended after the last
            # trim freed what they held, which the resident size does not show.
            if resident - floor > growth or worked > BUSY * interval:
                function(0)
                floor = resident_bytes()
                worked_until = time.process_time()
            else:
                floor = min(floor, resident)  # buffers unmapped since: measure from there
        except OSError as error:  # /proc unreadable: nothing to measure, stop quietly
            log.warning("memory trimming stopped: %s", error)
            return
