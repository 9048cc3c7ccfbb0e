"""A full or read-only data dir is seen by `/readyz` of a real `images-server serve`: its data
dir on a 2 MB tmpfs, filled up (`ENOSPC`), then its storage and cache directories made
read-only bind mounts (`EROFS`). The storage and cache probes write real bytes, so both name
the cause; an upload meanwhile is a `503` JSON, logged with its cause, and `images-server
check` fails naming it too; freeing the space or remounting read-write makes it ready again
without a restart."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.images import quadrant_bytes
from tests.servers import CLI, images_server

WAIT = 60.0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs mounted at tmp_path/data (unmounted at the end, whatever happened)."""
    data = tmp_path / "data"
    data.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(data)], check=True)
    try:
        yield data
    finally:
        subprocess.run(["umount", "-l", str(data)], check=False)


@contextmanager
def _read_only(directory: Path) -> Iterator[None]:
    """`directory` read-only (a read-only bind mount over itself: the whole tmpfs cannot be
    remounted read-only while the server holds its SQLite files open for writing)."""
    directory.mkdir(exist_ok=True)
    subprocess.run(["mount", "--bind", str(directory), str(directory)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(directory)], check=True)
        yield
    finally:
        subprocess.run(["umount", str(directory)], check=True)


def _fill(directory: Path) -> Path:
    """Write a file until not one more byte fits."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 4096, 1):
            while True:
                try:
                    os.write(fd, b"\0" * size)
                except OSError as error:
                    if error.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)
    return filler


def _readyz(base: str, status: int) -> dict[str, object]:
    deadline = time.monotonic() + WAIT
    while True:
        response = requests.get(f"{base}/readyz", timeout=30)
        if response.status_code == status or time.monotonic() > deadline:
            assert response.status_code == status, response.text
            body = response.json()
            assert isinstance(body, dict)
            return body
        time.sleep(0.2)


def _log_records(log: Path) -> list[dict[str, object]]:
    records = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


def test_readyz_sees_a_full_then_read_only_data_dir_and_recovers(
    small_disk: Path, tmp_path: Path
) -> None:
    env = {"IMAGES_SERVE_WORKER": "0", "IMAGES_EAGER_PRESETS": "", "IMAGES_WORKERS": "1"}
    logs = tmp_path / "logs"
    with images_server(small_disk, env, log_dir=logs) as base:
        _readyz(base, 200)

        filler = _fill(small_disk)
        full = _readyz(base, 503)
        checks = full["checks"]
        assert isinstance(checks, dict)
        assert set(checks) >= {"storage", "cache"}, checks
        assert "ENOSPC" in checks["storage"]
        assert "ENOSPC" in checks["cache"]

        checked = subprocess.run(
            [CLI, "check"],
            env=os.environ | {"IMAGES_DATA_DIR": str(small_disk)} | env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert checked.returncode == 1, checked.stdout + checked.stderr
        assert "storage: NOT READY" in checked.stdout + checked.stderr
        assert "ENOSPC" in checked.stdout + checked.stderr
        assert [path.name for path in small_disk.rglob(".tmp-*")] == []  # nothing left behind

        photo = quadrant_bytes(64, 48, "jpeg")
        upload = requests.post(
            f"{base}/upload", data=photo, headers={"Content-Type": "image/jpeg"}, timeout=30
        )
        assert upload.status_code == 503, upload.text
        assert upload.json()["status"] == "error"

        filler.unlink()
        _readyz(base, 200)  # space again: ready, no restart

        with _read_only(small_disk / "originals"), _read_only(small_disk / "cache"):
            read_only = _readyz(base, 503)
            checks = read_only["checks"]
            assert isinstance(checks, dict)
            assert "EROFS" in checks["storage"]
            assert "EROFS" in checks["cache"]
        _readyz(base, 200)  # read-write again: ready, no restart
        uploaded = requests.post(
            f"{base}/upload", data=photo, headers={"Content-Type": "image/jpeg"}, timeout=30
        )
        assert uploaded.status_code == 201, uploaded.text

    records = _log_records(logs / "stderr.log")
    upload_errors = [r for r in records if r.get("logger") == "images_server.http.errors"]
    assert any(
        str(r["message"]).startswith("503 ") and "No space left on device" in str(r.get("cause"))
        for r in upload_errors
    ), upload_errors  # the upload's 503, logged with the OS error under it
    health = [str(r["message"]) for r in records if r.get("logger") == "images_server.http.health"]
    for part in ("storage", "cache"):
        for cause in ("ENOSPC", "EROFS"):
            assert any(f"not ready: {part}:" in line and cause in line for line in health), health
    assert len(health) == 8  # logged when it changes (2 parts x 2 causes x down and up), once
