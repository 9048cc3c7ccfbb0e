"""A process tree from /proc, for the benchmarks that measure a server's memory."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def process_tree(root: int, proc: Path = Path("/proc")) -> list[int]:
    """`root` and every live descendant of it, from the parent pid in /proc/<pid>/stat."""
    children: dict[int, list[int]] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone since the listing
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])  # the name may hold spaces
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return sorted(tree)


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds the live processes of `root`'s tree have used."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in process_tree(root):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def wait_idle(root: int, quiet: float = 2.0, limit: float = 120) -> None:
    """Until `root`'s process tree has used under 2% of a core over `quiet` seconds."""
    deadline = time.monotonic() + limit
    before = tree_cpu_seconds(root)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        after = tree_cpu_seconds(root)
        if after - before < 0.02 * quiet:
            return
        before = after
    print(f"  warning: pid {root}'s tree is still busy after {limit:.0f} s", file=sys.stderr)
