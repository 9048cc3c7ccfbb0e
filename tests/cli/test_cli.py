"""The `images-server` command itself, run for real: `--version`, a `check` that creates
nothing, warnings about misspelled settings (once per start, even across gunicorn's processes
and the embedded worker), and secrets read from files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pytest
import requests

from tests.servers import free_port, stop

CLI = str(Path(sys.executable).parent / "images-server")
TYPO = "IMAGES_ENGIN is not a setting; did you mean IMAGES_ENGINE?"


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    """This environment without any IMAGES_* variable (nor the warned-once mark), plus `extra`."""
    clean = {k: v for k, v in os.environ.items() if "IMAGES_" not in k}
    return clean | {"IMAGES_DATA_DIR": str(data_dir)} | extra


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def _tree(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


def test_version_is_the_installed_distributions() -> None:
    done = _run(dict(os.environ), "--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"images-server, version {version('images-server')}"


@pytest.mark.parametrize("exists", [False, True])
def test_check_creates_nothing(tmp_path: Path, exists: bool) -> None:
    data_dir = tmp_path / "data"
    if exists:
        data_dir.mkdir()
    done = _run(_env(data_dir), "check")
    assert done.returncode == 1
    assert "not ready: database" in done.stderr
    assert "does not exist yet: run `images-server migrate`" in done.stderr
    assert "Traceback" not in done.stderr
    assert data_dir.exists() == exists
    assert _tree(tmp_path) == (["data"] if exists else [])


def test_check_passes_once_the_database_is_migrated(tmp_path: Path) -> None:
    env = _env(tmp_path / "data")
    assert _run(env, "migrate").returncode == 0
    before = _tree(tmp_path)
    done = _run(env, "check")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: engine vips")
    assert "queue: ok" in done.stdout
    assert "workers: ok (no job waits)" in done.stdout
    assert _tree(tmp_path) == before  # no queue, no originals or cache dir, no key


def test_check_refuses_a_data_dir_that_cannot_be_made(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a directory should be")
    done = _run(_env(blocker / "data"), "check")
    assert done.returncode == 1
    assert "storage: NOT READY" in done.stderr
    assert f"{blocker} is not a writable directory" in done.stderr


def test_a_misspelled_setting_is_named_with_its_fix(tmp_path: Path) -> None:
    env = _env(
        tmp_path / "data",
        IMAGES_ENGIN="wand",
        IMAGES_SERVE_WORKER="0",  # read by gunicorn_conf: not a typo
        IMAGES_QUEUE_URL_FILE=str(tmp_path / "queue_url"),  # a secret's file: not a typo
    )
    (tmp_path / "queue_url").write_text(f"sqlite:///{tmp_path / 'queue.db'}\n")
    done = _run(env, "check")
    assert done.stderr.count(TYPO) == 1
    assert "IMAGES_SERVE_WORKER" not in done.stderr
    assert "IMAGES_QUEUE_URL_FILE" not in done.stderr
    assert f"{tmp_path / 'queue.db'} does not exist yet" in done.stderr  # the file was read


def test_the_worker_warns_in_its_log(tmp_path: Path) -> None:
    env = _env(tmp_path / "data", IMAGES_ENGIN="wand", IMAGES_QUEUE_WORKERS="1")
    worker = subprocess.Popen(
        [CLI, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        assert worker.stderr is not None
        line = worker.stderr.readline()  # the first thing it says
    finally:
        stop(worker)  # type: ignore[arg-type]
    assert json.loads(line)["message"] == TYPO


def test_serve_warns_once_for_all_its_processes(tmp_path: Path) -> None:
    """gunicorn's master, its two workers and the embedded job worker all read the settings."""
    port = free_port()
    env = _env(tmp_path / "data", IMAGES_ENGIN="wand", IMAGES_PORT=str(port), IMAGES_WORKERS="2")
    server = subprocess.Popen(
        [CLI, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        time.sleep(1)  # the job worker has started too
    finally:
        server.terminate()
        output = server.communicate(timeout=60)[0].decode(errors="replace")
    assert output.count(TYPO) == 1, output


def test_secrets_come_from_files(tmp_path: Path) -> None:
    key_file = tmp_path / "secret_key"
    key_file.write_text("a-secret-from-a-file\n")  # as `echo` and editors leave it
    from_file = _run(_env(tmp_path / "a", IMAGES_SECRET_KEY_FILE=str(key_file)), "sign", "/image/x")
    direct = _run(
        _env(tmp_path / "b", IMAGES_SECRET_KEY="a-secret-from-a-file"), "sign", "/image/x"
    )
    assert from_file.returncode == 0, from_file.stderr
    assert from_file.stdout == direct.stdout
    assert not (tmp_path / "a").exists()  # no key generated: the file's was used

    both = _run(
        _env(tmp_path / "c", IMAGES_SECRET_KEY="x", IMAGES_SECRET_KEY_FILE=str(key_file)),
        "sign",
        "/image/x",
    )
    assert both.returncode == 1
    assert "IMAGES_SECRET_KEY and IMAGES_SECRET_KEY_FILE are both set" in both.stderr
    assert "Traceback" not in both.stderr
