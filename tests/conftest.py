"""Fixtures shared by the whole suite: settings in a temp dir, the app on each engine.

Tests that need a real part (ImageMagick's `convert`, an S3 endpoint, the sample
photos in `samples/`) fail when it is missing, never skip; and in CI any skipped test fails the run.
No test sees the developer's `IMAGES_*` settings (`no_settings_from_the_environment`): each
sets what it needs.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from flask import Flask
from flask.testing import FlaskClient

from images_server.app import create_app
from images_server.services import Services
from images_server.settings import Settings
from images_server.settings.environment import PREFIX, READ_ELSEWHERE
from tests.images import SAMPLES
from tests.servers import stop
from tests.spine import Spine, make_spine

pytest_plugins = ["tests.conftest_s3", "tests.conftest_redis", "tests.conftest_postgres"]

ENGINES = ("vips", "wand")
REAL_CONVERT = Path("/usr/bin/convert")  # /usr/local/bin/convert may be a stand-in


@pytest.fixture(autouse=True)
def no_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """`Settings()` in a test, and what a test starts, read only the `IMAGES_*` it sets."""
    for name in list(os.environ):
        if name.startswith(PREFIX) and name not in READ_ELSEWHERE:
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def samples() -> Path:
    if not (SAMPLES / "photo-1mp-1200x900.jpg").is_file():
        pytest.fail(f"the sample photos are missing: {SAMPLES}")
    return SAMPLES


@pytest.fixture(scope="session")
def convert() -> str:
    """ImageMagick's own CLI, the reference for geometry and pixels."""
    if not os.access(REAL_CONVERT, os.X_OK):
        pytest.fail("ImageMagick's convert is missing: run scripts/install-system-deps.sh")
    return str(REAL_CONVERT)


@pytest.fixture
def workers() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts (`images-server worker`...): stopped when it ends, whatever
    happened (SIGTERM, then SIGKILL if one does not exit)."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        stop(process, timeout=60)


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def spine(engine_name: str) -> Spine:
    """The real render path on `engine_name` (tests/spine.py)."""
    return make_spine(engine_name)


@pytest.fixture
def settings(tmp_path: Path, engine_name: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", engine=engine_name)


@pytest.fixture
def app(settings: Settings) -> Flask:
    return create_app(settings)


@pytest.fixture
def services(app: Flask) -> Services:
    return cast(Services, app.extensions["images"])


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as client:
        yield client


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if os.environ.get("CI") and skipped:
        print(f"\nCI: {skipped} test(s) skipped; every test must run in CI")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
