"""Migrations: from empty to head on SQLite and PostgreSQL, the schema they make, the CLI.

Each test gets an empty database of each kind (`database_url`, tests/conftest_postgres.py);
the schema the migrations create is read back with `sqlalchemy.inspect` and compared with
what the models declare, so the two cannot drift apart unnoticed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, inspect, text

from images_server.cli import main
from images_server.db.engine import make_engine
from images_server.db.migrate import upgrade
from images_server.db.models import Base

TABLES = {"images", "uploads", "grants", "api_keys", "packs", "upload_tokens"}
HEAD = "0006"


def _revision(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one())


@pytest.fixture
def engine(database_url: str) -> Engine:
    return make_engine(database_url)


def test_upgrade_from_empty_creates_every_table(database_url: str, engine: Engine) -> None:
    assert not set(inspect(engine).get_table_names()) & TABLES
    upgrade(database_url)
    assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
    assert _revision(engine) == HEAD
    engine.dispose()


def test_migrated_columns_match_the_models(database_url: str, engine: Engine) -> None:
    upgrade(database_url)
    inspector = inspect(engine)
    for table in Base.metadata.sorted_tables:
        columns = {column["name"]: column for column in inspector.get_columns(table.name)}
        assert set(columns) == {column.name for column in table.columns}, table.name
        for column in table.columns:
            assert columns[column.name]["nullable"] == column.nullable, (table.name, column.name)
    engine.dispose()


def test_migrated_keys_and_indexes(database_url: str, engine: Engine) -> None:
    upgrade(database_url)
    inspector = inspect(engine)
    assert inspector.get_pk_constraint("images")["constrained_columns"] == ["hash"]
    indexes = {
        table: {tuple(index["column_names"]) for index in inspector.get_indexes(table)}
        for table in TABLES
    }
    assert ("owner",) in indexes["images"]
    assert ("image_hash",) in indexes["uploads"]
    assert ("user",) in indexes["api_keys"]
    uniques = {
        table: {tuple(unique["column_names"]) for unique in inspector.get_unique_constraints(table)}
        for table in ("grants", "api_keys")
    }
    assert ("image_hash", "user") in uniques["grants"]
    assert ("key_hash",) in uniques["api_keys"]
    for table in ("uploads", "grants"):
        (foreign_key,) = inspector.get_foreign_keys(table)
        assert foreign_key["referred_table"] == "images"
        assert foreign_key["referred_columns"] == ["hash"]
        assert foreign_key["options"].get("ondelete") == "CASCADE"
    engine.dispose()


def test_upgrading_twice_is_a_no_op(database_url: str, engine: Engine) -> None:
    upgrade(database_url)
    before = set(inspect(engine).get_table_names())
    upgrade(database_url)
    assert set(inspect(engine).get_table_names()) == before
    assert _revision(engine) == HEAD
    engine.dispose()


def test_cli_migrate_uses_the_database_url(database_url: str, engine: Engine) -> None:
    runner = CliRunner()
    for _ in range(2):  # the second run finds the schema current
        result = runner.invoke(main, ["migrate"], env={"IMAGES_DATABASE_URL": database_url})
        assert result.exit_code == 0, result.output
        assert "up to date" in result.output
    assert set(inspect(engine).get_table_names()) >= TABLES
    engine.dispose()


def test_cli_migrate_defaults_to_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {"IMAGES_DATA_DIR": str(data_dir), "IMAGES_DATABASE_URL": None}
    result = CliRunner().invoke(main, ["migrate"], env=env)
    assert result.exit_code == 0, result.output
    engine = make_engine(f"sqlite:///{data_dir / 'images.db'}")
    assert set(inspect(engine).get_table_names()) >= TABLES
    assert _revision(engine) == HEAD
    engine.dispose()
