"""Just enough of Docker's formats to check the repo's Dockerfile and build context by hand.

`parse` reads the Dockerfile into stages of instructions (continuations joined, comments
dropped, JSON arguments decoded); `context_files` lists what a build context would hold
under `.dockerignore`, with Docker's rules: patterns in order, the last match wins, `!`
re-includes, a pattern matching a directory covers everything under it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Instruction:
    keyword: str
    text: str  # everything after the keyword, continuations joined

    @property
    def words(self) -> list[str]:
        """The arguments: a JSON array decoded, or the shell words."""
        if self.text.startswith("["):
            decoded = json.loads(self.text)
            return [str(word) for word in decoded]
        return shlex.split(self.text)

    def flags(self) -> dict[str, str]:
        return dict(word[2:].split("=", 1) for word in self.words if word.startswith("--"))

    def operands(self) -> list[str]:
        return [word for word in self.words if not word.startswith("--")]


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [ins for ins in self.instructions if ins.keyword == keyword]

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for ins in self.all("ENV"):
            values.update(word.split("=", 1) for word in ins.words)  # type: ignore[misc]
        return values


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    return lines


def parse(path: Path) -> list[Stage]:
    stages: list[Stage] = []
    for line in _logical_lines(path.read_text()):
        keyword, _, text = line.partition(" ")
        instruction = Instruction(keyword.upper(), text.strip())
        if instruction.keyword == "FROM":
            words = instruction.operands()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else str(len(stages))
            stages.append(Stage(name, words[0]))
        elif stages:
            stages[-1].instructions.append(instruction)
    return stages


def _pattern(glob: str) -> re.Pattern[str]:
    parts = re.split(r"(\*\*/?|\*|\?|\[[^]]*\])", glob.strip("/"))
    regex = ""
    for part in parts:
        if part.startswith("**"):
            regex += ".*"
        elif part == "*":
            regex += "[^/]*"
        elif part == "?":
            regex += "[^/]"
        elif part.startswith("["):
            regex += part
        else:
            regex += re.escape(part)
    return re.compile(regex)


def _ignored(relative: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    prefixes = ["/".join(relative.split("/")[: n + 1]) for n in range(relative.count("/") + 1)]
    ignored = False
    for negated, pattern in rules:
        if any(pattern.fullmatch(prefix) for prefix in prefixes):
            ignored = not negated
    return ignored


def context_files(root: Path) -> set[str]:
    """Paths (relative, with `/`) of the files a `docker build root` would send."""
    rules = []
    for line in (root / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            rules.append((line.startswith("!"), _pattern(line.lstrip("!"))))
    reincluded = [pattern.pattern for negated, pattern in rules if negated]
    found: set[str] = set()
    for directory, subdirs, files in os.walk(root):
        base = Path(directory).relative_to(root).as_posix().removeprefix(".")
        # a directory left out whole is not walked (.venv, .git), unless a `!` may reach inside
        subdirs[:] = [
            name
            for name in subdirs
            if not _ignored(f"{base}/{name}".lstrip("/"), rules)
            or any(p.startswith(re.escape(f"{base}/{name}".lstrip("/"))) for p in reincluded)
        ]
        names = (f"{base}/{name}".lstrip("/") for name in files)
        found.update(name for name in names if not _ignored(name, rules))
    return found
