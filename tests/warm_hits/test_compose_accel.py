"""docker-compose.accel.yml, checked without Docker: the compose-spec schema, and that its
paths, user and prefix are those of docker-compose.yml, the Dockerfile and nginx/nginx.conf."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from images_server.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
OVERRIDE = ROOT / "docker-compose.accel.yml"


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def test_the_compose_spec_schema_accepts_it() -> None:
    tool = Path(sys.executable).parent / "check-jsonschema"
    command = [str(tool), "--builtin-schema", "vendor.compose-spec", str(OVERRIDE)]
    checked = subprocess.run(command, capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout


def test_it_shares_the_apps_cache_directory_with_nginx_where_nginx_conf_looks() -> None:
    services = _load(OVERRIDE)["services"]
    base = _load(ROOT / "docker-compose.yml")["services"]
    assert set(services) - {"cache-init"} <= set(base)
    dockerfile = (ROOT / "Dockerfile").read_text()
    data_dir = re.search(r"IMAGES_DATA_DIR=(\S+)", dockerfile)
    user = re.search(r"^USER (\S+)$", dockerfile, re.MULTILINE)
    assert data_dir
    assert user
    cache_dir = f"{data_dir[1]}/cache"  # Settings.cache_dir

    for name in ("cache-init", "app", "worker"):
        assert services[name]["volumes"] == [f"result-cache:{cache_dir}"], name
    assert services["nginx"]["volumes"] == [f"result-cache:{cache_dir}:ro"]
    assert services["cache-init"]["entrypoint"] == ["chown", user[1], cache_dir]
    assert services["cache-init"]["image"] == base["app"]["image"]
    for name in ("app", "worker"):
        assert services[name]["depends_on"] == {
            "cache-init": {"condition": "service_completed_successfully"}
        }

    conf = (ROOT / "nginx" / "nginx.conf").read_text()
    prefix = services["app"]["environment"]["IMAGES_ACCEL_REDIRECT"]
    assert Settings(accel_redirect=prefix).accel_redirect == prefix
    location = re.search(rf"location {prefix} \{{\n\s+internal;\n\s+alias (\S+);", conf)
    assert location, f"nginx.conf has no internal location {prefix}"
    assert location[1] == f"{cache_dir}/"
