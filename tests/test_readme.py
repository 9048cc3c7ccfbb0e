"""The README's walk-through, run as printed against a live `images-server serve`.

Every `$ ` line of the walk-through's console block runs, in order, in one bash session in a
fresh folder that holds the repository's `samples/` (as the README's "from the repository
folder" has it), against a server started as `make run` starts it. What the README shows
under a command is what it must print: `…` stands for any text (a long hash, a placeholder).
A `# WxH` comment on a command that writes a file (`-o name`) is checked against that file's
real size. Only two things are changed before running, and both are said here: the server's
port (a free one instead of 8000), and the one public image URL of the `/external` example,
which is served from a loopback origin with the same kind of picture (the suite has no
Internet), allowed by `IMAGES_EXTERNAL_ALLOW_HOSTS` for that origin's port alone.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
import pyvips

from tests.origin import Origin, serving
from tests.servers import images_server

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
README_BASE = "http://127.0.0.1:8000"
PUBLIC_IMAGE = (
    "https://upload.wikimedia.org/wikipedia/commons/4/47/PNG_transparency_demonstration_1.png"
)
MARK = "@@walkthrough-step@@"


@dataclass
class Step:
    command: str
    expected: list[str] = field(default_factory=list)


def walkthrough_steps(text: str) -> list[Step]:
    """The `$ ` commands of the console block under `## Walk-through`, with the lines shown
    under each (comment lines starting with `#` are prose, not output)."""
    section = text.split("\n## Walk-through\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```console\n", 1)[1].split("\n```", 1)[0]
    steps: list[Step] = []
    continued = False
    for line in block.splitlines():
        if continued:
            steps[-1].command += "\n" + line
        elif line.startswith("$ "):
            steps.append(Step(line[2:]))
        elif line.strip() and not line.startswith("#"):
            steps[-1].expected.append(line)
        continued = line.endswith("\\")
    return steps


def matches(expected: str, actual: str) -> bool:
    pattern = ".*".join(re.escape(part) for part in expected.split("…"))
    return re.fullmatch(pattern, actual) is not None


def claimed_size(command: str) -> tuple[str, int, int] | None:
    """(file, width, height) when the command writes a file and its comment gives a size."""
    written = re.search(r"-o (\S+)", command)
    comment = command.split(" # ", 1)[1] if " # " in command else ""
    size = re.search(r"(\d+)x(\d+)", comment)
    if written is None or size is None or written.group(1) == "/dev/null":
        return None
    return written.group(1), int(size.group(1)), int(size.group(2))


@pytest.fixture(scope="module")
def steps() -> list[Step]:
    found = walkthrough_steps(README.read_text())
    assert len(found) >= 15
    return found


def test_the_walkthrough_runs_as_printed(steps: list[Step], samples: Path, tmp_path: Path) -> None:
    folder = tmp_path / "repo"
    folder.mkdir()
    (folder / "samples").symlink_to(samples)
    origin = Origin(
        routes={"/dice.png": (200, "image/png", (samples / "dice-alpha-300x225.png").read_bytes())}
    )
    with serving(origin):
        allow = {"IMAGES_EXTERNAL_ALLOW_HOSTS": f"127.0.0.1:{origin.port}"}
        with images_server(tmp_path / "data", allow) as base:
            outputs = _run(steps, folder, base, origin.url("/dice.png"))
    assert origin.hits["/dice.png"] == 1  # fetched once, then served like an upload

    for step, output in zip(steps, outputs, strict=True):
        shown = [line.replace(README_BASE, "") for line in step.expected]
        printed = [line.replace(base, "") for line in output.splitlines()]
        assert len(printed) == len(shown), (step.command, output)
        for want, got in zip(shown, printed, strict=True):
            assert matches(want, got), (step.command, want, got)
        claim = claimed_size(step.command)
        if claim is not None:
            name, width, height = claim
            image = pyvips.Image.new_from_file(str(folder / name))
            assert (image.width, image.height) == (width, height), step.command


def _run(steps: list[Step], folder: Path, base: str, origin_image: str) -> list[str]:
    script = "\n".join(
        f"echo {MARK}\n"
        + step.command.replace(README_BASE, base).replace(
            quote(PUBLIC_IMAGE, safe=""), quote(origin_image, safe="")
        )
        for step in steps
    )
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # curl -sS prints its errors: none
    return done.stdout.split(MARK + "\n")[1:]


def test_the_harness_reads_what_the_readme_shows() -> None:
    text = "\n## Walk-through\n\n```console\n$ echo a \\\n  b   # 4x3\na b\n# prose\n$ true\n```\n"
    parsed = walkthrough_steps(text)
    assert [(step.command, step.expected) for step in parsed] == [
        ("echo a \\\n  b   # 4x3", ["a b"]),
        ("true", []),
    ]
    assert matches('{"hash":"fd50…415e"}', '{"hash":"fd5016d7415e"}')
    assert not matches('{"hash":"fd50…415e"}', '{"hash":"fd5016d7415f"}')
    assert claimed_size("curl -o a.jpg x   # 800x600") == ("a.jpg", 800, 600)
    assert claimed_size("curl -o /dev/null x   # 800x600") is None
