"""Settings from `IMAGES_*` variables: types, defaults, clear errors, and the README table."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from images_server.settings import Settings, SettingsError, load_settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("IMAGES_"):
            monkeypatch.delenv(name)
    settings = load_settings()
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
