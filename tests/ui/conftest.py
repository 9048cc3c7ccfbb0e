"""Fixtures for the web UI's browser tests: a real server, a real worker, Debian's Chromium.

`images-server serve` (gunicorn) and `images-server worker` (huey) run as subprocesses on one
temporary data dir, so they share the SQLite database and queue as in production. The worker
is started by the test when it wants it (`start_worker`), so a test can look at a queued pack
first. Chromium is Debian's (`/usr/bin/chromium`), driven by Playwright; a missing browser or
Playwright fails the test, never skips it. Screenshots go to `$IMAGES_TEST_ARTIFACTS`
(default `tests/ui/artifacts/`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

import pytest
import requests

from tests.servers import free_port, stop

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CLI = str(Path(sys.executable).parent / "images-server")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


class Processes:
    """Subprocesses with their output in log files; all stopped, and files closed, at the end."""

    def __init__(self, directory: Path, env: dict[str, str]) -> None:
        self.directory = directory
        self.env = env
        self._running: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.directory / f"{name}.log").open("wb")
        process = subprocess.Popen([CLI, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self._running.append((process, log))
        return process

    def log(self, name: str) -> str:
        return (self.directory / f"{name}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for process, log in reversed(self._running):
            stop(process)
            log.close()
        self._running.clear()


@pytest.fixture
def engine_name() -> str:
    """The page does not depend on the engine: the app fixtures run on libvips only here."""
    return "vips"


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    """Settings for this module's server and worker, beyond a fresh data dir and port."""
    return {}


@pytest.fixture(scope="module")
def processes(
    tmp_path_factory: pytest.TempPathFactory, server_env: dict[str, str]
) -> Iterator[Processes]:
    data_dir = tmp_path_factory.mktemp("ui-data")
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGES_")}
    env |= {
        "IMAGES_PORT": str(free_port()),
        "IMAGES_DATA_DIR": str(data_dir),
        "IMAGES_WORKERS": "1",
        "IMAGES_QUEUE_WORKERS": "1",
    }
    env |= server_env
    running = Processes(tmp_path_factory.mktemp("ui-logs"), env)
    yield running
    running.stop_all()


@pytest.fixture(scope="module")
def server(processes: Processes) -> str:
    """The base URL of `images-server serve`, up and answering `/healthz`."""
    process = processes.start("serve", "serve", "--no-worker")  # tests start the worker
    base = f"http://127.0.0.1:{processes.env['IMAGES_PORT']}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                return base
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    pytest.fail(f"images-server serve did not start:\n{processes.log('serve')}")


@pytest.fixture(scope="module")
def start_worker(processes: Processes) -> Callable[[], None]:
    """Starts `images-server worker` on the server's queue (once; later calls do nothing)."""

    def start() -> None:
        if not (processes.directory / "worker.log").exists():
            processes.start("worker", "worker")

    return start


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is missing: pip install -e '.[dev]' (the `playwright` package)")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-system-deps.sh (apt chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots are saved: `$IMAGES_TEST_ARTIFACTS` or `tests/ui/artifacts/`."""
    default = Path(__file__).parent / "artifacts"
    directory = Path(os.environ.get("IMAGES_TEST_ARTIFACTS") or default)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[tuple[Page, list[str]]]:
    """A fresh page (own cookies) and what went wrong in it: console errors (CSP violations
    among them), uncaught exceptions, and every response of status 400 or more."""
    context = browser.new_context(
        base_url=server,
        viewport={"width": 1280, "height": 900},
        permissions=["clipboard-read", "clipboard-write"],
        accept_downloads=True,
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    yield tab, errors
    context.close()
