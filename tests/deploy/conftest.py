"""The image without Docker: its build steps replayed into a venv, and that venv serving.

`image_venv` replays the Dockerfile's builder stage: its COPY sources, as `.dockerignore`
leaves them in the build context, go into a temp context; `pip wheel . --no-deps` builds the
wheel there, as the builder does; the wheel goes into a fresh venv. The dependencies are not
fetched again (minutes from PyPI): the venv sees this one's, the same versions. `served`
runs that venv's `images-server` with the image's environment and CMD, on loopback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.deploy.dockerfile import Stage, context_files, parse
from tests.servers import free_port, stop

ROOT = Path(__file__).resolve().parents[2]
WHEEL_STEP = "pip wheel . --no-deps --wheel-dir /wheels"
INSTALL_STEP = "/opt/venv/bin/pip install /wheels/*.whl"


@dataclass(frozen=True)
class Served:
    env: dict[str, str]
    port: int
    pid: int


@pytest.fixture(scope="package")
def stages() -> list[Stage]:
    return parse(ROOT / "Dockerfile")


def _replay_builder_copies(builder: Stage, context: Path) -> None:
    """Copy the builder's COPY sources (as the build context holds them) to `context`."""
    files = context_files(ROOT)
    for copy in builder.all("COPY"):
        *sources, destination = copy.operands()
        for source in sources:
            prefix = source.rstrip("/")
            for name in sorted(files):
                if name == prefix:
                    target = context / destination / Path(name).name
                elif name.startswith(prefix + "/"):
                    target = context / destination / name.removeprefix(prefix + "/")
                else:
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, target)


@pytest.fixture(scope="package")
def image_venv(stages: list[Stage], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The builder stage's /opt/venv, made the builder's way."""
    builder = stages[0]
    assert WHEEL_STEP in builder.all("RUN")[0].text
    assert INSTALL_STEP in builder.all("RUN")[0].text
    context = tmp_path_factory.mktemp("context")
    _replay_builder_copies(builder, context)
    wheels = context / "wheels"
    wheel_step = [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--wheel-dir"]
    built = subprocess.run(
        [*wheel_step, str(wheels), "-q"], cwd=context, capture_output=True, text=True, check=False
    )
    assert built.returncode == 0, built.stderr
    assert "would be ignored" not in built.stdout + built.stderr  # every data folder declared
    (wheel,) = wheels.glob("images_server-*.whl")
    venv = tmp_path_factory.mktemp("image") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin/python")]
    subprocess.run([*pip, "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)
    # A path in a .pth file is not a site dir: the repo's editable install stays out.
    (site_packages(venv) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def site_packages(venv: Path) -> Path:
    (site,) = (venv / "lib").glob("python3.*/site-packages")
    return site


def image_env(stages: list[Stage], venv: Path, data_dir: Path) -> dict[str, str]:
    """The runtime stage's ENV, its /opt/venv being `venv`, with one worker and `data_dir`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGES_")}
    env |= stages[-1].env()
    path = env["PATH"].replace("/opt/venv/bin", str(venv / "bin"))
    env["PATH"] = path.replace("$PATH", os.environ["PATH"])
    return env | {"IMAGES_DATA_DIR": str(data_dir), "IMAGES_WORKERS": "1"}


def run_cli(venv: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(venv / "bin/images-server"), *args],
        env=env,
        cwd=env["IMAGES_DATA_DIR"],  # away from the repo, whose images_server would shadow
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="package")
def served(
    image_venv: Path, stages: list[Stage], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """The image's CMD from the image's venv, migrated first as compose's one-shot does."""
    data_dir = tmp_path_factory.mktemp("served")
    port = free_port()
    # IMAGES_HOST stays on loopback here; the image's 0.0.0.0 is checked by reading it
    env = image_env(stages, image_venv, data_dir) | {
        "IMAGES_PORT": str(port),
        "IMAGES_HOST": "127.0.0.1",
    }
    assert run_cli(image_venv, env, "migrate").startswith("ok")
    command = stages[-1].all("CMD")[-1].words
    log = data_dir / "server.log"  # a file, not a pipe nobody reads while the server runs
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(image_venv / "bin" / command[0]), *command[1:]],
            env=env,
            cwd=data_dir,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok:
                    break
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.2)
        else:
            pytest.fail(f"the image's CMD did not serve:\n{log.read_text(errors='replace')}")
        yield Served(env, port, process.pid)
    finally:
        stop(process)
