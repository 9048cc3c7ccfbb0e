"""`images-server import` and `export`, run for real: a folder and a list of URLs in, each
file stored, skipped or refused with the reason an upload would get; run again, everything is
skipped; out again, the originals as served (no GPS) and their rows."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import pyvips

from tests.images import quadrant_bytes
from tests.origin import Origin, serving

CLI = str(Path(sys.executable).parent / "images-server")
PHOTOS = ("photo-1mp-1200x900.jpg", "camera-iphone-8mp-3264x2448.jpg", "dice-alpha-300x225.png")


def _run(data_dir: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if "IMAGES_" not in k}
    env |= {"IMAGES_DATA_DIR": str(data_dir), **extra}
    return subprocess.run(
        [CLI, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def library(tmp_path: Path, samples: Path) -> Path:
    folder = tmp_path / "library"
    (folder / "nested").mkdir(parents=True)
    for name in PHOTOS[:2]:
        shutil.copy(samples / name, folder / name)
    shutil.copy(samples / PHOTOS[2], folder / "nested" / PHOTOS[2])
    (folder / "notes.txt").write_text("not an image")
    (folder / "copy.jpg").write_bytes((samples / PHOTOS[0]).read_bytes())  # the same bytes
    return folder


def test_a_folder_is_imported_and_a_second_run_skips_it_all(tmp_path: Path, library: Path) -> None:
    data, mapping = tmp_path / "data", tmp_path / "map.csv"
    done = _run(data, "import", str(library), "--jobs", "3", "--map", str(mapping))
    assert done.returncode == 1, done.stderr  # one file was refused
    assert "stored 3, skipped 1, refused 1" in done.stdout  # copy.jpg: the same bytes
    assert "refused 1: not a supported image format" in done.stdout
    with mapping.open(newline="") as text:
        rows = {Path(row["source"]).name: row for row in csv.DictReader(text)}
    assert rows["notes.txt"]["status"] == "refused"
    for path in (*library.glob("*.jpg"), library / "nested" / PHOTOS[2]):
        assert rows[path.name]["hash"] == _sha(path)
    pair = {rows["copy.jpg"]["status"], rows[PHOTOS[0]]["status"]}
    assert pair == {"stored", "skipped"}  # whichever ran first; never both stored
    skipped = rows["copy.jpg"] if rows["copy.jpg"]["status"] == "skipped" else rows[PHOTOS[0]]
    assert skipped["reason"].startswith("the same bytes as ")
    again = _run(data, "import", str(library), "--map", str(tmp_path / "map.json"))
    assert "stored 0, skipped 4, refused 1" in again.stdout
    listed = json.loads((tmp_path / "map.json").read_text())
    assert sorted(row["status"] for row in listed) == ["refused", *["skipped"] * 4]


def test_files_over_the_upload_limit_are_refused_before_reading(
    tmp_path: Path, library: Path
) -> None:
    done = _run(tmp_path / "data", "import", str(library), IMAGES_MAX_UPLOAD_BYTES="200000")
    assert "refused 3: larger than the upload limit of 200000 bytes" in done.stdout


@pytest.fixture
def origin(samples: Path) -> Iterator[Origin]:
    state = Origin()
    state.routes["/a.jpg"] = (200, "image/jpeg", (samples / PHOTOS[0]).read_bytes())
    state.routes["/b.png"] = (200, "image/png", quadrant_bytes(40, 30, "png"))
    with serving(state) as running:
        yield running


def test_urls_are_fetched_through_the_safe_fetcher(tmp_path: Path, origin: Origin) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_text(
        f"# a comment, then a blank line\n\n{origin.url('/a.jpg')}\n{origin.url('/b.png')}\n"
        f"{origin.url('/gone.jpg')}\nhttp://127.0.0.1:1/private.jpg\n"
    )
    allow = f"127.0.0.1:{origin.port}"
    done = _run(tmp_path / "data", "import", "--urls", str(listing), "--map",
                str(tmp_path / "map.json"), IMAGES_EXTERNAL_ALLOW_HOSTS=allow)  # fmt: skip
    assert "stored 2, skipped 0, refused 2" in done.stdout
    rows = {row["source"]: row for row in json.loads((tmp_path / "map.json").read_text())}
    assert rows[origin.url("/a.jpg")]["status"] == "stored"
    assert "404" in rows[origin.url("/gone.jpg")]["reason"]
    assert "not a public address" in rows["http://127.0.0.1:1/private.jpg"]["reason"]


def test_export_writes_the_originals_as_served_and_their_rows(
    tmp_path: Path, library: Path
) -> None:
    data = tmp_path / "data"
    _run(data, "import", str(library), "--owner", "alice", "--private", "--no-variants")
    out = tmp_path / "out"
    done = _run(data, "export", str(out))
    assert done.returncode == 0, done.stderr
    assert "exported 3 images" in done.stdout
    rows = {row["hash"]: row for row in json.loads((out / "images.json").read_text())}
    iphone = _sha(library / PHOTOS[1])
    assert rows[iphone]["owner"] == "alice"
    assert rows[iphone]["public"] is False
    assert rows[iphone]["exif"]["make"] == "Apple"  # the safe subset, as /metadata shows it
    exported = pyvips.Image.new_from_file(str(out / rows[iphone]["file"]))
    assert not [field for field in exported.get_fields() if "GPS" in field]
    assert (exported.width, exported.height) == (3264, 2448)
    again = _run(data, "export", str(out))  # resumed: the files are kept
    assert again.returncode == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([*(r["file"] for r in rows.values()),
                                                            "images.json"])  # fmt: skip


def test_a_file_of_urls_needs_the_flag(tmp_path: Path, library: Path) -> None:
    done = _run(tmp_path / "data", "import", "--urls", str(library))
    assert done.returncode == 2
    assert "SOURCE must be a folder, or a file of URLs with --urls" in done.stderr
