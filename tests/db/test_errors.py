"""A bad database URL says what failed, never the password: `images-server migrate` and
`check`, `/readyz` and a request's 503, against the real PostgreSQL with a wrong password, a
database that does not exist and a port nobody listens on."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from images_server.app import create_app
from images_server.settings import Settings
from tests.conftest_postgres import PostgresServer
from tests.servers import free_port

CLI = str(Path(sys.executable).parent / "images-server")
USER = "images_pw_user"
PASSWORD = "Right-Pa55word-x"
WRONG = "Wrong-Pa55word-y"
HBA_LINE = f"host all {USER} 127.0.0.1/32 scram-sha-256\n"


@pytest.fixture(scope="module")
def password_user(postgres_server: PostgresServer) -> Iterator[str]:
    """A role that must give its password (the session server trusts everyone else)."""
    with psycopg.connect(postgres_server.conninfo(), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(USER)))
        connection.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(USER), sql.Literal(PASSWORD)
            )
        )
    hba = postgres_server.data_dir / "pg_hba.conf"
    original = hba.read_text()
    hba.write_text(HBA_LINE + original)  # the first matching line wins
    reloaded = postgres_server.run("pg_ctl", "reload", "-D", str(postgres_server.data_dir))
    assert reloaded.returncode == 0, reloaded.stderr
    try:
        yield USER
    finally:
        hba.write_text(original)
        postgres_server.run("pg_ctl", "reload", "-D", str(postgres_server.data_dir))


def _urls(server: PostgresServer, user: str) -> dict[str, tuple[str, str]]:
    """Each bad URL, carrying a password, and what the message must say."""
    return {
        "wrong password": (
            f"postgresql+psycopg://{user}:{WRONG}@127.0.0.1:{server.port}/images_test",
            "authentication failed",
        ),
        "no such database": (
            f"postgresql+psycopg://postgres:{WRONG}@127.0.0.1:{server.port}/no_such_db",
            'database "no_such_db" does not exist',
        ),
        "dead port": (
            f"postgresql+psycopg://postgres:{WRONG}@127.0.0.1:{free_port()}/images_test",
            "host unreachable (connection refused)",
        ),
    }


def _run(command: str, url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"IMAGES_DATABASE_URL": url, "IMAGES_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [CLI, command], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_role_needs_its_password(postgres_server: PostgresServer, password_user: str) -> None:
    """The control: it is the wrong password, not the role, that the tests below fail on."""
    info = f"host=127.0.0.1 port={postgres_server.port} dbname=images_test user={password_user}"
    with psycopg.connect(f"{info} password={PASSWORD}") as connection:
        assert connection.execute("SELECT 1").fetchone() == (1,)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(f"{info} password={WRONG}")


@pytest.mark.parametrize("case", ["wrong password", "no such database", "dead port"])
@pytest.mark.parametrize("command", ["migrate", "check"])
def test_the_cli_says_what_failed_without_the_password(
    postgres_server: PostgresServer,
    password_user: str,
    tmp_path: Path,
    case: str,
    command: str,
) -> None:
    url, reason = _urls(postgres_server, password_user)[case]
    done = _run(command, url, tmp_path)
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert reason in output
    assert "***@127.0.0.1" in output  # the URL is named, its password hidden
    assert WRONG not in output
    assert "Traceback" not in output


@pytest.mark.parametrize("case", ["wrong password", "no such database", "dead port"])
def test_the_app_says_what_failed_without_the_password(
    postgres_server: PostgresServer,
    password_user: str,
    tmp_path: Path,
    case: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, reason = _urls(postgres_server, password_user)[case]
    app = create_app(Settings(data_dir=tmp_path / "data", database_url=url))
    client = app.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["database"] == f"metadata database: {reason}"
    upload = client.post("/upload", data={"file": (io.BytesIO(b"x" * 10), "x.png")})
    assert upload.status_code == 503
    body = upload.get_json()
    assert body["code"] == "database_unavailable"
    assert body["message"] == f"metadata database unavailable: {reason}"
    assert "127.0.0.1" not in upload.get_data(as_text=True)
    logged = caplog.text
    assert reason in logged
    assert WRONG not in logged + ready.get_data(as_text=True) + upload.get_data(as_text=True)
