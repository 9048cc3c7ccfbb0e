"""docker-compose.yml, checked without Docker: against the compose-spec schema and the repo.

check-jsonschema's vendored compose-spec schema validates it (and is shown to reject a bad
file); then the file is held to what the app and the repo say: every `IMAGES_*` variable is a
setting and the whole app environment, interpolated the way compose does, loads as valid
`Settings`; each service is health-checked or a one-shot others wait for; the `images-server`
commands exist; NGINX's mounts exist, its purge port and path are the app's purge URL, and
its health check, run against the image's app, tells a serving port from a closed one.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from images_server.cli import main as cli
from images_server.settings import Settings, load_settings
from tests.deploy.conftest import Served
from tests.deploy.dockerfile import parse
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
ONE_SHOTS = {"migrate", "minio-init"}
VARIABLE = re.compile(r"\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def interpolate(value: str, shell: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR:?error}` and `$$`, for one value."""

    def substitute(match: re.Match[str]) -> str:
        if match[0] == "$$":
            return "$"
        name, operator, word = match[1], match[2] or "", match[3] or ""
        if shell.get(name):
            return shell[name]
        if operator.endswith("?"):
            raise KeyError(f"{name}: {word}")
        return word

    return VARIABLE.sub(substitute, value)


def _check_schema(path: Path) -> subprocess.CompletedProcess[str]:
    tool = Path(sys.executable).parent / "check-jsonschema"
    command = [str(tool), "--builtin-schema", "vendor.compose-spec", str(path)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_the_compose_spec_schema_accepts_it() -> None:
    checked = _check_schema(COMPOSE)
    assert checked.returncode == 0, checked.stdout


def test_the_compose_spec_schema_rejects_a_broken_file(tmp_path: Path) -> None:
    broken = COMPOSE.read_text().replace("service_completed_successfully", "service_done", 1)
    (tmp_path / "docker-compose.yml").write_text(broken)
    checked = _check_schema(tmp_path / "docker-compose.yml")
    assert checked.returncode == 1
    assert "service_done" in checked.stdout


def test_every_images_variable_is_a_setting(services: dict[str, dict[str, Any]]) -> None:
    used = {name for svc in services.values() for name in svc.get("environment", {})}
    images = {name for name in used if name.startswith("IMAGES_")}
    assert len(images) > 10
    unknown = {
        name for name in images if name.removeprefix("IMAGES_").lower() not in Settings.model_fields
    }
    assert not unknown


def test_the_app_environment_loads_as_settings(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(KeyError, match="IMAGES_SECRET_KEY"):  # no silent default secret
        interpolate(services["app"]["environment"]["IMAGES_SECRET_KEY"], {})
    shell = {"IMAGES_SECRET_KEY": "a-test-key-of-enough-length"}
    for name, value in services["app"]["environment"].items():
        if value is not None:  # a bare name is passed on from the shell only when set there
            monkeypatch.setenv(name, interpolate(str(value), shell))
    settings = load_settings()
    assert settings.storage == "s3"
    assert settings.s3_endpoint_url == "http://minio:9000"
    assert settings.database_url is not None
    assert settings.database_url.startswith("postgresql+psycopg://images:")
    assert settings.database_url.endswith("@postgres:5432/images")
    assert settings.rate_limit_storage_url == "redis://redis:6379/0"
    assert settings.queue_url == "redis://redis:6379/1"
    assert settings.trusted_proxies == 1
    assert settings.secret_key == ("a-test-key-of-enough-length",)
    assert (settings.api_keys, settings.cdn_base_url) == ((), None)


def test_minio_credentials_and_bucket_are_the_apps(services: dict[str, dict[str, Any]]) -> None:
    app, minio = services["app"]["environment"], services["minio"]["environment"]
    assert app["AWS_ACCESS_KEY_ID"] == minio["MINIO_ROOT_USER"]
    assert app["AWS_SECRET_ACCESS_KEY"] == minio["MINIO_ROOT_PASSWORD"]
    assert services["minio-init"]["environment"] == minio
    assert services["minio-init"]["image"].startswith("minio/mc")
    init = " ".join(services["minio-init"]["command"])
    assert f"mc mb --ignore-existing minio/{app['IMAGES_S3_BUCKET']}" in init
    postgres = services["postgres"]["environment"]
    url = interpolate(app["IMAGES_DATABASE_URL"], {})
    password = interpolate(postgres["POSTGRES_PASSWORD"], {})
    assert url == (
        f"postgresql+psycopg://{postgres['POSTGRES_USER']}:{password}"
        f"@postgres:5432/{postgres['POSTGRES_DB']}"
    )


def test_each_service_is_health_checked_or_a_one_shot_others_wait_for(
    services: dict[str, dict[str, Any]],
) -> None:
    waited = {
        name: condition["condition"]
        for svc in services.values()
        for name, condition in svc.get("depends_on", {}).items()
    }
    image_checked = {n for n, s in services.items() if s.get("build") == "."}
    assert image_checked == {"app", "migrate", "worker"}
    assert parse(ROOT / "Dockerfile")[-1].all("HEALTHCHECK")  # app's check comes with its image
    for name, svc in services.items():
        if name in ONE_SHOTS:
            assert svc["restart"] == "no"
            assert waited[name] == "service_completed_successfully"
        else:
            assert "healthcheck" in svc or name in image_checked, name
            assert svc["restart"] == "unless-stopped"
    assert set(services) == ONE_SHOTS | {"nginx", "app", "worker", "postgres", "redis", "minio"}
    assert {n for n, c in waited.items() if c == "service_healthy"} >= {"app", "postgres", "redis"}


def test_the_app_scales_and_starts_after_its_migration(services: dict[str, dict[str, Any]]) -> None:
    app = services["app"]
    assert app["deploy"]["replicas"] >= 2
    assert "ports" not in app
    assert "container_name" not in app
    assert app["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert services["migrate"]["image"] == app["image"]
    assert services["migrate"]["environment"] == app["environment"]


def test_every_images_server_command_exists(services: dict[str, dict[str, Any]]) -> None:
    dockerfile_cmd = parse(ROOT / "Dockerfile")[-1].all("CMD")[-1].words
    commands = [svc.get("command", dockerfile_cmd) for svc in services.values() if "build" in svc]
    used = {command[1] for command in commands if command[0] == "images-server"}
    assert used == {"serve", "migrate", "worker"}
    assert used <= set(cli.commands)


def test_nginx_mounts_repo_files_and_serves_the_apps_purge_url(
    services: dict[str, dict[str, Any]],
) -> None:
    nginx = services["nginx"]
    image = parse(ROOT / nginx["build"] / "Dockerfile")[-1]
    binds = [v.split(":") for v in nginx["volumes"] if v.startswith("./")]
    copied = {tuple(copy.operands()) for copy in image.all("COPY")}
    assert len(binds) == len(copied)  # each file the image copies, mounted over its copy
    for source, target, mode in binds:
        assert (ROOT / source).is_file(), source
        assert (str(Path(source).relative_to(nginx["build"])), target) in copied
        assert mode == "ro"
    conf = (ROOT / "nginx/nginx.conf").read_text()
    purge = services["app"]["environment"]["IMAGES_NGINX_PURGE_URL"]
    match = re.fullmatch(r"http://nginx:(\d+)(/\w+)", purge)
    assert match
    assert f"listen {match[1]};" in conf
    assert f'location ~ "^{match[2]}/image/' in conf
    assert "server app:8000;" in conf  # the app's service name and the image's IMAGES_PORT
    assert f"{match[1]}:" not in " ".join(nginx["ports"])  # the purge port is not published


def test_the_nginx_healthcheck_command_tells_up_from_down(
    services: dict[str, dict[str, Any]], served: Served
) -> None:
    # run here against the image's app (NGINX passes /healthz through to it unchanged)
    test = services["nginx"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "bash", "-c"]
    assert "/dev/tcp/127.0.0.1/80 " in test[3]
    up = test[3].replace("/80 ", f"/{served.port} ")
    assert subprocess.run(["bash", "-c", up], capture_output=True, timeout=30).returncode == 0
    down = test[3].replace("/80 ", f"/{free_port()} ")
    assert subprocess.run(["bash", "-c", down], capture_output=True, timeout=30).returncode != 0
