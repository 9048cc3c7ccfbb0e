"""Settings from `IMAGES_*` variables: types, defaults, clear errors, and the README table."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from images_server.settings import (
    Settings,
    SettingsError,
    known_variables,
    load_settings,
    unknown_variables,
)

README = Path(__file__).resolve().parents[2] / "README.md"
TESTS = Path(__file__).resolve()


def test_defaults() -> None:
    settings = load_settings()  # tests/conftest.py: no IMAGES_* from the developer's shell
    assert (settings.host, settings.port, settings.engine) == ("127.0.0.1", 8000, "vips")
    assert (settings.storage, settings.cache) == ("filesystem", "filesystem")
    assert settings.data_dir == Path("./data")
    assert settings.max_upload_bytes == 25_000_000
    assert settings.max_pixels == 50_000_000
    assert settings.upload_enabled
    assert settings.external_enabled


def test_values_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGES_PORT", "9001")
    monkeypatch.setenv("IMAGES_ENGINE", "wand")
    monkeypatch.setenv("IMAGES_MAX_UPLOAD_BYTES", "5MB")
    monkeypatch.setenv("IMAGES_UPLOAD_ENABLED", "false")
    monkeypatch.setenv("IMAGES_EXTERNAL_ALLOW_HOSTS", "images.internal:8080, 10.0.0.0/8")
    settings = load_settings()
    assert settings.port == 9001
    assert settings.engine == "wand"
    assert settings.max_upload_bytes == 5_000_000
    assert settings.upload_enabled is False
    assert settings.external_allow_hosts == ("images.internal:8080", "10.0.0.0/8")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("IMAGES_PORT", "abc"),
        ("IMAGES_PORT", "70000"),
        ("IMAGES_ENGINE", "pillow"),
        ("IMAGES_STORAGE", "ftp"),
        ("IMAGES_UPLOAD_ENABLED", "perhaps"),
        ("IMAGES_EXTERNAL_ALLOW_HOSTS", "10.0.0.0/99"),
        ("IMAGES_RATE_LIMIT_STORAGE_URL", "memcached://x"),
        ("IMAGES_RATE_LIMIT_RENDERS", "lots"),
        ("IMAGES_API_KEYS", "alice:short"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load_settings()


def test_s3_needs_a_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGES_STORAGE", "s3")
    with pytest.raises(SettingsError, match="IMAGES_S3_BUCKET"):
        load_settings()


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.port = 1  # type: ignore[misc]


def test_tests_do_not_see_the_developers_settings() -> None:
    """`test_defaults`, run with settings exported, still gets the defaults."""
    exported = os.environ | {"IMAGES_PORT": "9999", "IMAGES_ENGINE": "wand", "CI": ""}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"{__file__}::test_defaults",
        ],
        env=exported,
        cwd=README.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:]


def test_readme_documents_every_setting() -> None:
    documented = set(re.findall(r"`(IMAGES_[A-Z0-9_]+)`", README.read_text()))
    fields = {f"IMAGES_{name.upper()}" for name in Settings.model_fields}
    assert fields <= documented, f"missing from README: {sorted(fields - documented)}"


def test_presets_come_from_json_and_keep_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "IMAGES_PRESETS", '{"card": "resize/400x300^/crop/400x300", "full": "quality/90"}'
    )
    presets = load_settings().presets
    assert presets["card"] == "resize/400x300^/crop/400x300"
    assert presets["full"] == "quality/90"
    assert presets["thumb"] == "resize/200x200^/crop/200x200"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('{"x": "bogus/1"}', "preset 'x': 'bogus/1': unknown op"),
        ('{"Bad Name": "resize/10x"}', "preset name 'Bad Name'"),
        ('{"loop": "preset/thumb"}', "unknown preset"),
        ("not json", "IMAGES_PRESETS"),
    ],
)
def test_bad_presets_stop_the_start(
    monkeypatch: pytest.MonkeyPatch, value: str, reason: str
) -> None:
    monkeypatch.setenv("IMAGES_PRESETS", value)
    with pytest.raises(SettingsError, match=re.escape(reason)):
        load_settings()


def test_default_link_lifetimes_must_fit_the_longest_allowed(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(data_dir=tmp_path, share_ttl=7200, max_link_ttl=3600)
    assert "IMAGES_SHARE_TTL is longer than IMAGES_MAX_LINK_TTL" in str(raised.value)
    shortened = load_settings(data_dir=tmp_path, max_link_ttl=60)  # defaults shrink to fit
    assert (shortened.signed_url_ttl, shortened.share_ttl) == (60, 60)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("secret_key", ("k1", "k2")),
        ("api_keys", ("alice:0123456789abcdef",)),
        ("database_url", "postgresql+psycopg://u:p@db/images"),
        ("queue_url", "redis://:p@redis:6379/1"),
        ("rate_limit_storage_url", "redis://:p@redis:6379/0"),
    ],
)
def test_secrets_come_from_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: object
) -> None:
    variable = f"IMAGES_{name.upper()}"
    secret = tmp_path / name
    text = ",".join(value) if isinstance(value, tuple) else str(value)
    secret.write_text(text + "\n")  # a file's trailing newline is not part of the secret
    monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv(f"{variable}_FILE", str(secret))
    assert getattr(load_settings(), name) == value


def test_the_cloudflare_token_comes_from_a_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "token").write_text("cf-token\r\n")
    monkeypatch.setenv("IMAGES_CLOUDFLARE_API_TOKEN_FILE", str(tmp_path / "token"))
    monkeypatch.setenv("IMAGES_CLOUDFLARE_ZONE_ID", "zone")
    monkeypatch.setenv("IMAGES_CDN_BASE_URL", "https://cdn.example.com")
    assert load_settings().cloudflare_api_token == "cf-token"


def test_a_secret_and_its_file_together_are_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "url").write_text("sqlite:///x.db")
    monkeypatch.setenv("IMAGES_DATABASE_URL", "sqlite:///y.db")
    monkeypatch.setenv("IMAGES_DATABASE_URL_FILE", str(tmp_path / "url"))
    with pytest.raises(SettingsError, match="IMAGES_DATABASE_URL and IMAGES_DATABASE_URL_FILE"):
        load_settings()


def test_a_secret_file_that_cannot_be_read_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("IMAGES_API_KEYS_FILE", str(tmp_path / "missing"))
    with pytest.raises(SettingsError, match=r"IMAGES_API_KEYS_FILE: cannot read .*missing"):
        load_settings()


def test_unknown_variables_name_the_closest_setting() -> None:
    environ = {
        "IMAGES_ENGIN": "wand",
        "IMAGES_DATABSE_URL": "x",
        "IMAGES_WHATEVER_ELSE": "1",
        "IMAGES_ENGINE": "vips",
        "IMAGES_SECRET_KEY_FILE": "/run/secrets/key",
        "PATH": "/bin",
    }
    assert unknown_variables(environ) == [
        "IMAGES_DATABSE_URL is not a setting; did you mean IMAGES_DATABASE_URL?",
        "IMAGES_ENGIN is not a setting; did you mean IMAGES_ENGINE?",
        "IMAGES_WHATEVER_ELSE is not a setting; see the Settings table in the README",
    ]


def test_every_variable_the_project_reads_is_known() -> None:
    """An `IMAGES_*` name in the code, compose file or tests is a setting or listed as read
    elsewhere, so it is never warned about as a typo."""
    root = README.parent
    typos_on_purpose = {Path(__file__).resolve(), root / "tests" / "cli" / "test_cli.py"}
    sources = [*root.glob("images_server/**/*.py"), root / "docker-compose.yml"]
    sources += [*root.glob("tests/**/*.py"), root / "Dockerfile", root / "Makefile"]
    sources += [*root.glob(".github/workflows/*.yml")]
    sources = [source for source in sources if source not in typos_on_purpose]
    found = set()
    for source in sources:
        found |= set(re.findall(r"\bIMAGES_[A-Z0-9_]*[A-Z0-9]\b", source.read_text()))
    known = known_variables()
    prefixes = {name for name in found if any(k.startswith(name + "_") for k in known)}
    assert found - known - prefixes == set()
    assert {"IMAGES_SERVE_WORKER", "IMAGES_SERVER_IMAGE", "IMAGES_TEST_ARTIFACTS"} <= known


def test_upload_token_and_cors_settings(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, cors_origins="https://App.example, http://x:8080")
    assert settings.cors_origins == ("https://app.example", "http://x:8080")
    assert (settings.upload_token_ttl, settings.upload_token_max_ttl) == (600, 3600)
    with pytest.raises(ValidationError, match="no path"):
        Settings(data_dir=tmp_path, cors_origins="https://app.example/page")
    with pytest.raises(ValidationError, match="IMAGES_UPLOAD_TOKEN_TTL"):
        Settings(data_dir=tmp_path, upload_token_ttl=7200)
