"""`images_server.memory`: freed heap goes back to the system; glibc's mmap threshold is fixed.

Each runs in a fresh interpreter: both change the process's allocator for good.
"""

from __future__ import annotations

import os
import subprocess
import sys

# 200 MB in 2 kB blocks, one in a hundred kept: glibc cannot shrink its heap past the kept
# ones, so what the others freed stays resident until malloc_trim hands its pages back. Then
# wait (10 s at most) for the resident size to fall by 100 MB; print it before and after.
_FRAGMENT_THEN_WAIT = """
blocks = [bytes(2000) for _ in range(100_000)]
kept = blocks[::100]
del blocks
before = memory.resident_bytes() / 2**20
{start}
deadline = time.monotonic() + 10
while memory.resident_bytes() / 2**20 > before - 100 and time.monotonic() < deadline:
    time.sleep(0.1)
print(round(before), round(memory.resident_bytes() / 2**20), len(kept))
"""
_IMPORTS = "import time\nfrom images_server import memory\n"

_FRAGMENTED_THEN_TRIMMED = _IMPORTS + _FRAGMENT_THEN_WAIT.format(
    start="assert memory.start_trimming(interval=0.1)\n"
    "assert memory.start_trimming(interval=0.1)  # once per process: the running thread is kept"
)

# The same, made while the thread runs with a growth threshold it never reaches: only the work
# the process did since its last trim calls for the next one.
_FREED_AFTER_WORK = (
    _IMPORTS
    + "assert memory.start_trimming(interval=0.2, growth=2**40)\n"
    + "time.sleep(0.5)  # the thread's first trim is done\n"
    + _FRAGMENT_THEN_WAIT.format(start="")
)


def _run(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")} | env
    done = subprocess.run(
        [sys.executable, "-c", code], env=clean, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def test_the_trimming_thread_returns_freed_heap_to_the_system() -> None:
    before, after, _ = (int(word) for word in _run(_FRAGMENTED_THEN_TRIMMED).split())
    assert before > 200
    assert after < before - 100


def test_work_since_the_last_trim_calls_for_one_without_growth() -> None:
    before, after, _ = (int(word) for word in _run(_FREED_AFTER_WORK).split())
    assert before > 200
    assert after < before - 100


def test_the_mmap_threshold_is_fixed_unless_the_operator_set_one() -> None:
    code = "from images_server import memory; print(memory.tune_malloc())"
    assert _run(code) == "True"
    assert _run(code, MALLOC_MMAP_THRESHOLD_="262144") == "False"


def test_a_process_can_rewrite_its_command_line_as_ps_shows_it() -> None:
    code = (
        "import sys; from pathlib import Path; from images_server.jobs.supervisor import retitle;"
        "assert retitle((sys.executable, '-m', 'images_server.cli', 'worker'));"
        "print(Path('/proc/self/cmdline').read_bytes().rstrip(b'\\0').decode())"
    )
    assert _run(code).split("\0") == [sys.executable, "-m", "images_server.cli", "worker"]
