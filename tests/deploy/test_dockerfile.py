"""The Dockerfile, checked without a Docker engine: linted, read, and its build steps run.

hadolint lints it (and is shown to reject a bad one); its instructions are read for what the
image promises (two slim stages, non-root, `images-server serve` on all interfaces through
gunicorn's config file, a HEALTHCHECK on `/healthz`, system packages from the shared install
script); and the builder stage is replayed (tests/deploy/conftest.py): the wheel it builds
carries every data file of the package, and installed in a fresh venv it checks out on Wand
(libvips is what it serves with), loads the libMagickWand the runtime stage installs, runs
gunicorn with its config file, and serves, probed by the image's own HEALTHCHECK command.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.deploy.conftest import ROOT, Served, image_env, run_cli, site_packages
from tests.deploy.dockerfile import Instruction, Stage, context_files
from tests.servers import free_port

BIN = Path(sys.executable).parent


def _healthcheck(stage: Stage) -> tuple[dict[str, str], list[str]]:
    (check,) = stage.all("HEALTHCHECK")
    options, _, command = check.text.partition(" CMD ")
    return Instruction("HEALTHCHECK", options).flags(), Instruction("CMD", command).words


def test_hadolint_finds_nothing_in_either_image() -> None:
    lint = subprocess.run(
        [str(BIN / "hadolint"), "Dockerfile", "nginx/Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (lint.returncode, lint.stdout) == (0, "")


def test_hadolint_rejects_a_careless_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\n")
    lint = subprocess.run(
        [str(BIN / "hadolint"), str(bad)], capture_output=True, text=True, check=False
    )
    assert lint.returncode == 1
    assert "DL3007" in lint.stdout  # the `latest` tag
    assert "DL3008" in lint.stdout  # unpinned apt packages


def test_two_slim_stages_and_a_non_root_runtime(stages: list[Stage]) -> None:
    assert [stage.name for stage in stages] == ["builder", "runtime"]
    assert "ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm" in (ROOT / "Dockerfile").read_text()
    assert {stage.base for stage in stages} == {"${PYTHON_IMAGE}"}
    runtime = stages[-1]
    uid = runtime.all("USER")[-1].text.split(":")[0]
    assert uid.isdigit()
    assert int(uid) >= 1000
    assert f"--uid {uid}" in runtime.all("RUN")[0].text
    # USER comes after every RUN: nothing at run time has root's rights
    keywords = [ins.keyword for ins in runtime.instructions]
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k == "RUN")


def test_the_image_serves_on_all_interfaces_with_the_small_malloc(stages: list[Stage]) -> None:
    runtime = stages[-1]
    env = runtime.env()
    assert env["IMAGES_HOST"] == "0.0.0.0"  # noqa: S104 - inside a container, on purpose
    assert env["MALLOC_ARENA_MAX"] == "2"
    assert env["PATH"].startswith("/opt/venv/bin:")
    assert runtime.all("CMD")[-1].words == ["images-server", "serve"]
    assert runtime.all("EXPOSE")[0].text == env["IMAGES_PORT"]
    copies = [copy.words for copy in runtime.all("COPY")]
    assert ["--from=builder", "/opt/venv", "/opt/venv"] in copies


def test_the_healthcheck_asks_healthz_on_the_served_port(stages: list[Stage]) -> None:
    options, command = _healthcheck(stages[-1])
    assert set(options) >= {"interval", "timeout", "start-period", "retries"}
    assert command[0] == "python"
    assert "/healthz" in command[-1]
    assert "IMAGES_PORT" in command[-1]


def test_runtime_packages_come_from_the_shared_install_script(stages: list[Stage]) -> None:
    runtime = stages[-1]
    copies = {tuple(c.operands()) for c in runtime.all("COPY")}
    assert ("scripts/install-system-deps.sh", "/tmp/install-system-deps.sh") in copies
    assert runtime.all("RUN")[0].text.startswith("bash /tmp/install-system-deps.sh --runtime ")
    policy = "images_server/engines/imagemagick/policy.xml"
    assert (policy, "/etc/ImageMagick-6/policy.xml") in copies


def test_every_copy_source_is_in_the_build_context(stages: list[Stage]) -> None:
    context = context_files(ROOT)
    for stage in stages:
        for copy in stage.all("COPY"):
            if "from" in copy.flags():
                continue
            for source in copy.operands()[:-1]:
                path = ROOT / source
                assert path.exists(), source
                wanted = [path] if path.is_file() else list(path.rglob("*.py"))
                missing = {p.relative_to(ROOT).as_posix() for p in wanted} - context
                assert not {m for m in missing if "__pycache__" not in m}, source
    assert not {name for name in context if name.startswith((".venv/", ".git/", "tests/"))}
    assert not {name for name in context if "__pycache__" in name}


def test_the_wheel_carries_every_data_file_of_the_package(image_venv: Path) -> None:
    data = {
        name
        for name in context_files(ROOT)
        if name.startswith("images_server/") and not name.endswith(".py")
    }
    assert "images_server/engines/imagemagick/policy.xml" in data
    installed = site_packages(image_venv)
    assert {name for name in data if not (installed / name).is_file()} == set()
    assert (installed / "images_server/gunicorn_conf.py").is_file()


def test_the_installed_wheel_checks_out_on_wand(
    image_venv: Path, stages: list[Stage], tmp_path: Path
) -> None:
    # Wand refuses to start without the packaged ImageMagick policy; `served` runs on vips
    env = image_env(stages, image_venv, tmp_path) | {"IMAGES_ENGINE": "wand"}
    run_cli(image_venv, env, "migrate")  # `check` only reads: it creates no database
    assert run_cli(image_venv, env, "check").startswith("ok: engine wand")


def test_wand_loads_the_library_the_runtime_script_installs(
    image_venv: Path, stages: list[Stage], tmp_path: Path
) -> None:
    probe = (
        "import images_server, images_server.engines.wand, pathlib\n"
        "print(images_server.__file__)\n"
        "maps = pathlib.Path('/proc/self/maps').read_text().split()\n"
        "print(next(word for word in maps if 'libMagickWand' in word))\n"
    )
    done = subprocess.run(
        [str(image_venv / "bin/python"), "-c", probe],
        env=image_env(stages, image_venv, tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    package_file, library = done.stdout.split()
    assert package_file.startswith(str(image_venv))  # the wheel, not the repo
    owner = subprocess.run(["dpkg", "-S", library], capture_output=True, text=True, check=True)
    runtime = subprocess.run(
        ["bash", str(ROOT / "scripts/install-system-deps.sh"), "--runtime", "--list"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert owner.stdout.split(":")[0] in runtime.stdout.split()


def test_the_cmd_runs_gunicorn_with_its_config_file(served: Served) -> None:
    # `images-server serve` execs gunicorn in place, so the CMD's process is gunicorn's master
    argv = Path(f"/proc/{served.pid}/cmdline").read_bytes().split(b"\0")
    assert b"gunicorn" in argv
    assert b"python:images_server.gunicorn_conf" in argv


def test_the_healthcheck_passes_on_the_server_and_fails_without_it(
    served: Served, stages: list[Stage]
) -> None:
    _, command = _healthcheck(stages[-1])
    assert subprocess.run(command, env=served.env, capture_output=True).returncode == 0
    elsewhere = served.env | {"IMAGES_PORT": str(free_port())}
    assert subprocess.run(command, env=elsewhere, capture_output=True).returncode != 0
