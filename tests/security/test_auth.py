"""API keys: Bearer parsing, constant-time checks, and the warning when writes are open."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

import images_server.cli
from images_server.app import create_app
from images_server.errors import Unauthorized
from images_server.security.auth import (
    ApiKeys,
    DatabaseKeys,
    KeyChecker,
    bearer_token,
    is_loopback,
    open_writes_warning,
)
from images_server.settings import Settings

ALICE = "alice-key-0123456789"
BOB = "bob-key-0123456789ab"
KEYS = ApiKeys.parse([f"alice:{ALICE}", f"bob:{BOB}"])
NO_DATABASE = DatabaseKeys("sqlite:////nonexistent/images-server-tests/images.db")  # never made
CHECKER = KeyChecker(KEYS, NO_DATABASE)
EVERYWHERE = "0.0.0.0"  # noqa: S104 - the bind the warning is about


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (f"Bearer {ALICE}", ALICE),
        (f"bearer   {ALICE}  ", ALICE),
        (f"BEARER {ALICE}", ALICE),
        ("Bearer", None),
        ("Bearer   ", None),
        (f"Basic {ALICE}", None),
        (ALICE, None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def test_each_key_names_its_user() -> None:
    assert CHECKER.authenticate(f"Bearer {ALICE}", write=True) == "alice"
    assert CHECKER.authenticate(f"Bearer {BOB}", write=False) == "bob"
    assert CHECKER.authenticate(None, write=False) is None  # a read needs no key
    assert KEYS
    assert not ApiKeys.parse([])


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "needs an API key"),
        (f"Basic {ALICE}", "needs an API key"),
        ("Bearer alice-key-012345678", "not valid"),
        (f"Bearer {ALICE}x", "not valid"),
        ("Bearer alice", "not valid"),
        (f"Bearer alice:{ALICE}", "not valid"),
    ],
)
def test_missing_or_wrong_keys_are_unauthorized(header: str | None, message: str) -> None:
    with pytest.raises(Unauthorized, match=message) as caught:
        CHECKER.authenticate(header, write=True)
    assert (caught.value.status, caught.value.code) == (401, "unauthorized")


def test_every_key_is_compared_in_constant_time(
    compare_digest_calls: list[tuple[bytes, bytes]],
) -> None:
    calls = compare_digest_calls
    assert CHECKER.authenticate(f"Bearer {ALICE}", write=True) == "alice"
    assert len(calls) == 2  # bob's key is compared too, after alice's matched
    assert {len(a) for a, _ in calls} == {len(b) for _, b in calls} == {32}  # digests, not keys


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("LocalHost", True),
        (EVERYWHERE, False),
        ("::", False),
        ("192.168.1.10", False),
        ("10.0.0.1", False),
        ("images.example.com", False),
        ("localhost.example.com", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_open_writes_warning(tmp_path: Path) -> None:
    assert open_writes_warning(Settings(data_dir=tmp_path)) is None
    keyed = Settings(data_dir=tmp_path, host=EVERYWHERE, api_keys=f"a:{ALICE}")
    assert open_writes_warning(keyed) is None
    warning = open_writes_warning(Settings(data_dir=tmp_path, host=EVERYWHERE))
    assert warning is not None
    assert EVERYWHERE in warning
    assert "IMAGES_API_KEYS" in warning


def test_the_app_logs_the_warning_at_creation(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        create_app(Settings(data_dir=tmp_path, host="127.0.0.1"))
        assert not caplog.records
        create_app(Settings(data_dir=tmp_path, host=EVERYWHERE))
    assert [record.levelname for record in caplog.records] == ["WARNING"]
    assert "writes are open" in caplog.records[0].getMessage()


@pytest.mark.parametrize(
    ("env", "warned"),
    [
        ({"IMAGES_HOST": EVERYWHERE}, True),
        ({"IMAGES_HOST": "127.0.0.1"}, False),
        ({"IMAGES_HOST": EVERYWHERE, "IMAGES_API_KEYS": f"alice:{ALICE}"}, False),
    ],
)
def test_serve_warns_loudly_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], warned: bool
) -> None:
    started: list[list[str]] = []
    monkeypatch.setattr(os, "execv", lambda _path, args: started.append(list(args)))
    for name in ("VIPS_CONCURRENCY", "MAGICK_THREAD_LIMIT", "MALLOC_ARENA_MAX"):
        monkeypatch.setenv(name, os.environ.get(name, "1"))  # serve sets them: undo after
    env = {"IMAGES_DATA_DIR": str(tmp_path), "IMAGES_API_KEYS": "", **env}
    result = CliRunner().invoke(images_server.cli.main, ["serve"], env=env)
    assert result.exit_code == 0, result.output
    assert len(started) == 1
    assert ("WARNING: writes are open" in result.stderr) is warned
    assert "writes are open" not in result.stdout
