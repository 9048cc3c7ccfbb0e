"""API keys from the database (`images-server keys`) over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask import Flask, Response, jsonify

from images_server.db.migrate import upgrade
from images_server.http.caller import caller
from images_server.settings import Settings
from tests.cli.test_keys import create_key, run_keys
from tests.http.test_access import assert_error, bearer, make_app, upload

ENV_KEY = "env-key-0123456789abcdef"
EVERYWHERE = "0.0.0.0"  # noqa: S104 - the bind the warning is about


def app_on(database_url: str, data_dir: Path, **overrides: object) -> Flask:
    """The app on `database_url`, with a `/whoami` write and read that answer the caller's user."""
    app = make_app(data_dir, database_url=database_url, **overrides)

    @app.post("/whoami")
    def whoami() -> Response:
        return jsonify(user=caller().user)

    @app.get("/whoami")
    def whoami_get() -> Response:
        return jsonify(user=caller().user)

    return app


def test_a_created_key_writes_as_its_user(database_url: str, tmp_path: Path) -> None:
    key = create_key(database_url, tmp_path, "alice")
    client = app_on(database_url, tmp_path / "data").test_client()
    assert upload(client, bearer(key)).status_code == 201
    assert client.post("/whoami", headers=bearer(key)).get_json() == {"user": "alice"}
    assert client.get("/whoami", headers=bearer(key)).get_json() == {"user": "alice"}
    assert client.get("/whoami").get_json() == {"user": None}
    for headers in ({}, bearer("wrong-key-0123456789"), bearer(key + "x")):
        response = upload(client, headers)
        assert_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(client.get("/whoami", headers=bearer("wrong")), 401, "unauthorized")


def test_a_revoked_key_is_refused(database_url: str, tmp_path: Path) -> None:
    alice = create_key(database_url, tmp_path, "alice")
    bob = create_key(database_url, tmp_path, "bob")
    client = app_on(database_url, tmp_path / "data").test_client()
    assert upload(client, bearer(alice)).status_code == 201
    assert run_keys(database_url, tmp_path, "revoke", "1").exit_code == 0
    assert_error(upload(client, bearer(alice)), 401, "unauthorized")
    assert_error(client.get("/whoami", headers=bearer(alice)), 401, "unauthorized")
    assert client.post("/whoami", headers=bearer(bob)).get_json() == {"user": "bob"}


def test_env_keys_work_alongside_database_keys(database_url: str, tmp_path: Path) -> None:
    key = create_key(database_url, tmp_path, "alice")
    app = app_on(database_url, tmp_path / "data", api_keys=(f"ops:{ENV_KEY}",))
    client = app.test_client()
    assert client.post("/whoami", headers=bearer(ENV_KEY)).get_json() == {"user": "ops"}
    assert client.post("/whoami", headers=bearer(key)).get_json() == {"user": "alice"}
    assert_error(client.post("/whoami"), 401, "unauthorized")
    assert run_keys(database_url, tmp_path, "revoke", "1").exit_code == 0
    assert client.post("/whoami", headers=bearer(ENV_KEY)).get_json() == {"user": "ops"}
    assert_error(client.post("/whoami", headers=bearer(key)), 401, "unauthorized")


def test_without_any_key_writes_stay_open(database_url: str, tmp_path: Path) -> None:
    upgrade(database_url)  # a database with its tables, and no key in it
    client = app_on(database_url, tmp_path / "data").test_client()
    assert upload(client).status_code == 201
    assert client.post("/whoami", headers=bearer("anything")).get_json() == {"user": None}


def test_keys_made_after_start_protect_writes(database_url: str, tmp_path: Path) -> None:
    client = app_on(database_url, tmp_path / "data").test_client()  # no database yet
    assert client.post("/whoami").get_json() == {"user": None}
    key = create_key(database_url, tmp_path, "alice")
    assert_error(client.post("/whoami"), 401, "unauthorized")
    assert client.post("/whoami", headers=bearer(key)).get_json() == {"user": "alice"}
    assert run_keys(database_url, tmp_path, "revoke", "1").exit_code == 0
    assert client.post("/whoami").get_json() == {"user": None}  # every key revoked: open again


def test_database_keys_silence_the_open_writes_warning(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        app_on(database_url, tmp_path / "data", host=EVERYWHERE)
        assert ["writes are open" in record.getMessage() for record in caplog.records] == [True]
        caplog.clear()
        create_key(database_url, tmp_path, "alice")
        app_on(database_url, tmp_path / "data", host=EVERYWHERE)
    assert not [record for record in caplog.records if "writes are open" in record.getMessage()]


def test_the_default_database_is_the_data_dirs(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir)
    key = create_key(settings.database_url_or_default, data_dir, "alice")
    client = make_app(data_dir).test_client()  # no IMAGES_DATABASE_URL: SQLite in the data dir
    assert_error(upload(client), 401, "unauthorized")
    assert upload(client, bearer(key)).status_code == 201
