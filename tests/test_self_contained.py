"""A clone is the whole product: no file in the repository reads or cites anything outside it.

Code, tests, docs, the Makefile, fixtures and generators name only paths inside the
repository, and the behaviour reference they cite is `docs/api.md`, which ships with it.
`.ci/run` backs this up by running the suite from a copy alone in an empty folder.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIPPED_DIRS = {
    ".git",
    ".venv",
    "node_modules",
    "data",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    "build",
    "dist",
    "artifacts",
    "test-artifacts",
}
OUTSIDE = re.compile(r"\.\./shared|shared/bench|SPEC\.md|SPEC §|/work/")
THIS_FILE = Path(__file__).resolve()


def _skipped(relative: Path) -> bool:
    return any(part in SKIPPED_DIRS or part.endswith(".egg-info") for part in relative.parts)


def _text_files() -> list[Path]:
    found = []
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT)
        if _skipped(relative) or not path.is_file():
            continue
        try:
            path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # images, archives
        found.append(path)
    return found


def test_no_file_reaches_outside_the_repository() -> None:
    files = _text_files()
    assert len(files) > 200  # the walk saw the repository, not an empty folder
    offenders = {
        f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}"
        for path in files
        if path != THIS_FILE
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    }
    assert sorted(offenders) == []


def test_the_sample_photos_ship_with_their_licences() -> None:
    samples = ROOT / "samples"
    photos = {path.name for path in samples.iterdir() if path.suffix in (".jpg", ".png")}
    readme = (samples / "README.md").read_text()
    sums = (samples / "SHA256SUMS").read_text()
    assert photos
    for name in photos:
        assert f"`{name}`" in readme
        assert name in sums
    assert "CC BY-SA 4.0" in readme


def test_every_sample_folder_names_each_file_its_source_and_licence() -> None:
    folders = [path for path in (ROOT / "samples").iterdir() if path.is_dir()]
    assert folders
    for folder in folders:
        readme = (folder / "README.md").read_text()
        sums = (folder / "SHA256SUMS").read_text()
        assert "licen" in readme.lower()
        for path in folder.rglob("*"):
            if (
                path.is_file()
                and path.name not in ("README.md", "SHA256SUMS")
                and not (path.name.startswith("LICENSE"))
            ):
                relative = str(path.relative_to(folder))
                assert relative in sums, f"{folder.name}/{relative} has no checksum"
                if path.parent == folder:
                    assert f"`{path.name}`" in readme, f"{folder.name}/{path.name} is not described"
