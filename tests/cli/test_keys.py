"""`images-server keys create|list|revoke` on SQLite and PostgreSQL: only hashes are stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.orm import Session

import images_server.cli
from images_server.db.engine import make_engine
from images_server.db.models import ApiKey
from images_server.db.queries import hash_api_key


def run_keys(database_url: str, data_dir: Path, *args: str) -> Result:
    """`images-server keys ARGS` against `database_url`, with no other key configured."""
    env = {
        "IMAGES_DATABASE_URL": database_url,
        "IMAGES_DATA_DIR": str(data_dir),
        "IMAGES_API_KEYS": "",
    }
    return CliRunner().invoke(images_server.cli.main, ["keys", *args], env=env)


def create_key(database_url: str, data_dir: Path, user: str) -> str:
    """A new key for `user`, made by the CLI; the key is the whole of stdout."""
    result = run_keys(database_url, data_dir, "create", "--user", user)
    assert result.exit_code == 0, result.output
    assert "will not be shown again" in result.stderr
    assert "will not be shown again" not in result.stdout
    return result.stdout.strip()


def stored_keys(database_url: str) -> list[ApiKey]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return list(session.execute(select(ApiKey).order_by(ApiKey.id)).scalars())
    finally:
        engine.dispose()


def test_create_prints_the_key_once_and_stores_its_hash(database_url: str, tmp_path: Path) -> None:
    key = create_key(database_url, tmp_path, "alice")
    assert len(key) >= 40
    assert "\n" not in key
    [row] = stored_keys(database_url)
    assert (row.user, row.key_hash, row.revoked_at) == ("alice", hash_api_key(key), None)
    assert key not in (row.user, row.key_hash)
    assert create_key(database_url, tmp_path, "alice") != key  # every key is new


def test_list_shows_users_never_keys(database_url: str, tmp_path: Path) -> None:
    empty = run_keys(database_url, tmp_path, "list")
    assert empty.exit_code == 0
    assert "no API keys" in empty.stdout
    alice = create_key(database_url, tmp_path, "alice")
    bob = create_key(database_url, tmp_path, "bob")
    result = run_keys(database_url, tmp_path, "list")
    assert result.exit_code == 0, result.output
    header, *lines = result.stdout.splitlines()
    assert header.split() == ["ID", "USER", "CREATED", "REVOKED", "HASH"]
    assert [line.split()[:2] for line in lines] == [["1", "alice"], ["2", "bob"]]
    for key in (alice, bob):
        assert key not in result.output
        assert hash_api_key(key) not in result.output
        assert hash_api_key(key)[:12] in result.output
    assert all(line.split()[4] == "-" for line in lines)  # created has a date and a time


def test_revoke_by_id_and_by_hash_prefix(database_url: str, tmp_path: Path) -> None:
    create_key(database_url, tmp_path, "alice")
    bob = create_key(database_url, tmp_path, "bob")
    result = run_keys(database_url, tmp_path, "revoke", "1")
    assert result.exit_code == 0, result.output
    assert "revoked API key 1 (alice)" in result.stdout
    result = run_keys(database_url, tmp_path, "revoke", hash_api_key(bob)[:12])
    assert result.exit_code == 0, result.output
    assert "revoked API key 2 (bob)" in result.stdout
    assert all(row.revoked_at is not None for row in stored_keys(database_url))
    again = run_keys(database_url, tmp_path, "revoke", "1")
    assert again.exit_code == 0
    assert "already revoked" in again.stdout
    listed = run_keys(database_url, tmp_path, "list").stdout.splitlines()
    assert all(line.split()[4] != "-" for line in listed[1:])


@pytest.mark.parametrize("key_id", ["99", "98765432109876", "abcdef", "ab", "not-an-id"])
def test_revoking_an_unknown_key_fails_clearly(
    database_url: str, tmp_path: Path, key_id: str
) -> None:
    create_key(database_url, tmp_path, "alice")
    result = run_keys(database_url, tmp_path, "revoke", key_id)
    assert result.exit_code != 0
    assert f"no API key with id or hash prefix '{key_id}'" in result.stderr
    assert stored_keys(database_url)[0].revoked_at is None


def test_create_needs_a_user(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'images.db'}"
    assert run_keys(url, tmp_path, "create").exit_code != 0
    blank = run_keys(url, tmp_path, "create", "--user", "  ")
    assert blank.exit_code != 0
    assert "--user" in blank.stderr
    assert run_keys(url, tmp_path, "create", "--user", "x" * 256).exit_code != 0
