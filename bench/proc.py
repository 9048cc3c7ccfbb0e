"""A process tree from /proc, for the benchmarks that measure a server's memory."""

from __future__ import annotations

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
