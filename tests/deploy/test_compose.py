"""docker-compose.yml, checked without Docker: against the compose-spec schema and the repo.

check-jsonschema's vendored compose-spec schema validates it (and is shown to reject a bad
file); then the file is held to what the app and the repo say: every `IMAGES_*` variable is a
setting and the whole app environment, interpolated the way compose does, loads as valid
`Settings`; each service is health-checked or a one-shot others wait for; the `images-server`
commands exist; NGINX's mounts exist, its purge port and path are the app's purge URL, and
its health check, run against the image's app, tells a serving port from a closed one.
"""

from __future__ import annotations

import json
import os
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
REQUIRED = {
    "IMAGES_SECRET_KEY",
    "IMAGES_API_KEYS",
    "POSTGRES_PASSWORD",
    "MINIO_ROOT_PASSWORD",
    "MINIO_APP_PASSWORD",
}
SHELL = {
    "IMAGES_SECRET_KEY": "a-test-key-of-enough-length",
    "IMAGES_API_KEYS": "admin:a-test-api-key-of-enough-length",
    "POSTGRES_PASSWORD": "a-test-postgres-password",
    "MINIO_ROOT_PASSWORD": "a-test-minio-root-password",
    "MINIO_APP_PASSWORD": "a-test-minio-app-password",
}


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
    shell = SHELL
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
    assert settings.api_keys == ("admin:a-test-api-key-of-enough-length",)
    assert settings.cdn_base_url is None


def _environment(service: dict[str, Any], shell: dict[str, str]) -> dict[str, str]:
    return {k: interpolate(str(v), shell) for k, v in service["environment"].items() if v}


def test_the_app_reaches_minio_as_its_own_user_not_as_root(
    services: dict[str, dict[str, Any]],
) -> None:
    app = _environment(services["app"], SHELL)
    minio = _environment(services["minio"], SHELL)
    init = _environment(services["minio-init"], SHELL)
    assert app["AWS_ACCESS_KEY_ID"] != minio["MINIO_ROOT_USER"]
    assert app["AWS_SECRET_ACCESS_KEY"] != minio["MINIO_ROOT_PASSWORD"]
    assert "MINIO_ROOT" not in " ".join(map(str, services["app"]["environment"].values()))
    # minio-init logs in as root and creates exactly the app's user, with the app's password
    assert {k: init[k] for k in minio} == minio
    assert (init["MINIO_APP_USER"], init["MINIO_APP_PASSWORD"]) == (
        app["AWS_ACCESS_KEY_ID"],
        app["AWS_SECRET_ACCESS_KEY"],
    )
    assert init["BUCKET"] == app["IMAGES_S3_BUCKET"]
    assert services["minio-init"]["image"].startswith("minio/mc:")
    script = _init_script(services)
    assert (
        'mc alias set minio http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"' in script
    )
    assert 'mc mb --ignore-existing "minio/$BUCKET"' in script
    assert 'mc admin user add minio "$MINIO_APP_USER" "$MINIO_APP_PASSWORD"' in script
    assert 'policy attach minio images-originals --user "$MINIO_APP_USER"' in script


def _init_script(services: dict[str, dict[str, Any]]) -> str:
    (script,) = services["minio-init"]["command"]
    assert services["minio-init"]["entrypoint"] == ["/bin/sh", "-c"]
    return interpolate(script, {})


def test_the_apps_minio_policy_is_limited_to_the_bucket(
    services: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    script = _init_script(services)
    checked = subprocess.run(["sh", "-n", "-c", script], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    # the script's own heredoc, run by sh with the service's bucket: the policy MinIO gets
    heredoc = script[script.index("cat > ") : script.index("\nEOF\n") + 4]
    heredoc = heredoc.replace("/tmp/images-originals.json", str(tmp_path / "policy.json"))
    bucket = services["minio-init"]["environment"]["BUCKET"]
    env = {"BUCKET": bucket, "PATH": "/usr/bin:/bin"}
    subprocess.run(["sh", "-c", heredoc], env=env, check=True)
    policy = json.loads((tmp_path / "policy.json").read_text())
    resources = {r for statement in policy["Statement"] for r in statement["Resource"]}
    assert resources == {f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"}
    actions = {a for statement in policy["Statement"] for a in statement["Action"]}
    assert all(statement["Effect"] == "Allow" for statement in policy["Statement"])
    assert "*" not in "".join(actions)
    assert not {a for a in actions if not a.startswith("s3:")}
    assert "s3:PutObject" in actions  # and no admin:*, no s3:CreateBucket, no other bucket
    assert "s3:CreateBucket" not in actions


def test_the_postgres_password_is_the_apps(services: dict[str, dict[str, Any]]) -> None:
    app = _environment(services["app"], SHELL)
    postgres = _environment(services["postgres"], SHELL)
    assert app["IMAGES_DATABASE_URL"] == (
        f"postgresql+psycopg://{postgres['POSTGRES_USER']}:{postgres['POSTGRES_PASSWORD']}"
        f"@postgres:5432/{postgres['POSTGRES_DB']}"
    )


def _all_environments(services: dict[str, dict[str, Any]], shell: dict[str, str]) -> None:
    for svc in services.values():
        if "environment" in svc:
            _environment(svc, shell)


def test_secrets_are_required_and_never_defaulted(services: dict[str, dict[str, Any]]) -> None:
    text = COMPOSE.read_text()
    uses = [(m[1], m[2]) for m in VARIABLE.finditer(text) if m[1] in REQUIRED]
    assert {name for name, _ in uses} == REQUIRED
    assert {operator for _, operator in uses} == {":?"}  # no `:-` default, no bare `${X}`
    # each one, left unset, stops compose with a message naming it
    _all_environments(services, SHELL)
    for name in REQUIRED:
        shell = {k: v for k, v in SHELL.items() if k != name}
        with pytest.raises(KeyError, match=name):
            _all_environments(services, shell)


def test_the_published_port_requires_api_keys(services: dict[str, dict[str, Any]]) -> None:
    published = [name for name, svc in services.items() if svc.get("ports")]
    assert published == ["nginx"]  # the only way in, and it leads to the app
    assert "app" in services["nginx"]["depends_on"]
    keys = services["app"]["environment"]["IMAGES_API_KEYS"]
    assert keys.startswith("${IMAGES_API_KEYS:?")
    assert services["worker"]["environment"]["IMAGES_API_KEYS"] == keys


PINNED = re.compile(r"\d+\.\d+\.\d+|RELEASE\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ|-\d{8}(-|$)")


# PostgreSQL's versions have two parts since 10: 16.6 is one release, as 7.4.1 is for Redis.
TWO_PART_VERSIONS = {"postgres": re.compile(r"\d+\.\d+(-|$)")}


def _pinned(image: str) -> bool:
    """The tag names one release: never `latest`, a bare major (`redis:7`) or a suite name."""
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag or tag == "latest":
        return False
    return bool(PINNED.search(tag) or TWO_PART_VERSIONS.get(name, PINNED).match(tag))


def _expand(text: str, args: dict[str, str]) -> str:
    """A Dockerfile's `${ARG}` references, replaced by the ARGs' defaults."""
    return re.sub(r"\$\{(\w+)\}", lambda match: args[match[1]], text)


def test_every_image_is_pinned_to_a_version(services: dict[str, dict[str, Any]]) -> None:
    assert not _pinned("redis:7-alpine")
    assert not _pinned("minio/minio:latest")
    assert not _pinned("postgres:16")
    assert not _pinned("postgres:16-alpine")
    assert _pinned("postgres:16.6-alpine")
    assert not _pinned("redis:7.4-alpine")
    assert not _pinned("debian:bookworm-slim")
    assert _pinned("minio/mc:RELEASE.2024-11-21T17-21-54Z")
    built = {}
    for name, svc in services.items():
        if "build" in svc:  # made here from a Dockerfile whose bases must be pinned
            built[name] = svc["build"]
        else:
            assert _pinned(svc["image"]), f"{name}: {svc['image']}"
    assert set(built.values()) == {".", "./nginx"}
    for context in set(built.values()):
        dockerfile = ROOT / context / "Dockerfile"
        defaults = dict(re.findall(r"^ARG (\w+)=(\S+)$", dockerfile.read_text(), re.MULTILINE))
        for stage in parse(dockerfile):
            base = _expand(stage.base, defaults)
            assert _pinned(base), f"{dockerfile}: {base}"


def test_file_secrets_are_settings_the_app_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The README's "Secrets from files" route: each IMAGES_<NAME>_FILE it names is read.
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n### Secrets from files\n", 1)[1].split("\n### ", 1)[0]
    variables = set(re.findall(r"\b(IMAGES_[A-Z_]+)_FILE\b", section))
    assert {"IMAGES_SECRET_KEY", "IMAGES_API_KEYS", "IMAGES_DATABASE_URL"} <= variables
    assert {"POSTGRES_PASSWORD_FILE", "MINIO_ROOT_PASSWORD_FILE"} <= set(
        re.findall(r"\b[A-Z_]+_FILE\b", section)
    )
    for name in list(os.environ):
        if name.startswith("IMAGES_"):
            monkeypatch.delenv(name)
    values = {
        "IMAGES_SECRET_KEY": "a-test-key-of-enough-length",
        "IMAGES_API_KEYS": "admin:a-test-api-key-of-enough-length",
        "IMAGES_DATABASE_URL": "postgresql+psycopg://images:pw@postgres:5432/images",
        "IMAGES_QUEUE_URL": "redis://redis:6379/1",
        "IMAGES_RATE_LIMIT_STORAGE_URL": "redis://redis:6379/0",
        "IMAGES_CLOUDFLARE_API_TOKEN": "a-test-token",
    }
    for variable in variables:
        secret = tmp_path / variable.lower()
        secret.write_text(values[variable] + "\n")
        monkeypatch.setenv(f"{variable}_FILE", str(secret))
    monkeypatch.setenv("IMAGES_CLOUDFLARE_ZONE_ID", "a-test-zone")  # what the token needs
    monkeypatch.setenv("IMAGES_CDN_BASE_URL", "https://cdn.example.com")
    settings = load_settings()
    assert settings.secret_key == (values["IMAGES_SECRET_KEY"],)
    assert settings.api_keys == (values["IMAGES_API_KEYS"],)
    assert settings.database_url == values["IMAGES_DATABASE_URL"]
    assert settings.queue_url == values["IMAGES_QUEUE_URL"]
    assert settings.cloudflare_api_token == values["IMAGES_CLOUDFLARE_API_TOKEN"]


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
