"""Pytest plugin: a real PostgreSQL server on loopback, for the metadata database tests.

List it in `pytest_plugins`. `postgres_server` runs `initdb` and `pg_ctl start` once per
session, as the `postgres` user when the tests run as root (PostgreSQL refuses root), in a
temp dir owned by that user: TCP on 127.0.0.1 and a free port only, its unix socket inside the
temp dir, trust authentication for loopback, fsync off. It creates the `images_test` database
and stops the server at the end. `postgres_url` gives each test that database emptied of
every table. A missing PostgreSQL fails the tests (never skips): a silently skipped suite
would hide SQL that only SQLite accepts.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.servers import free_port

_START_TIMEOUT = 30.0
_DATABASE = "images_test"
_SUPERUSER = "postgres"


@dataclass
class PostgresServer:
    bin_dir: Path
    data_dir: Path
    port: int
    run_as: str | None

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the test database."""
        return f"postgresql+psycopg://{_SUPERUSER}@127.0.0.1:{self.port}/{_DATABASE}"

    def conninfo(self, dbname: str = _DATABASE) -> str:
        return f"host=127.0.0.1 port={self.port} user={_SUPERUSER} dbname={dbname}"

    def run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / tool), *args]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        return subprocess.run(
            command, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
        )

    def stop(self) -> None:
        self.run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "immediate", "-w")


def _bin_dir() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0,
    )
    if not found:
        pytest.fail("PostgreSQL is missing (no /usr/lib/postgresql/*/bin): install postgresql")
    bin_dir = Path(found[-1]).parent
    if not os.access(bin_dir / "initdb", os.X_OK):
        pytest.fail(f"initdb is missing from {bin_dir}: apt-get install postgresql")
    return bin_dir


def _check(result: subprocess.CompletedProcess[str], what: str) -> None:
    if result.returncode != 0:
        pytest.fail(f"{what} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


def _start(root: Path) -> PostgresServer:
    run_as: str | None = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam(_SUPERUSER)
        except KeyError:
            pytest.fail("running as root, but there is no `postgres` user: install postgresql")
        run_as = _SUPERUSER
        os.chown(root, owner.pw_uid, owner.pw_gid)
    root.chmod(0o700)
    server = PostgresServer(_bin_dir(), root / "data", free_port(), run_as)
    _check(
        server.run(
            "initdb", "-D", str(server.data_dir), "-U", _SUPERUSER, "-A", "trust",
            "-E", "UTF8", "--no-locale", "--no-sync",
        ),
        "initdb",
    )  # fmt: skip
    (server.data_dir / "pg_hba.conf").write_text(
        "local all all trust\nhost all all 127.0.0.1/32 trust\n"
    )
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={server.port} "
        f"-c unix_socket_directories={root} -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off"
    )
    log = root / "postgres.log"
    started = server.run(
        "pg_ctl", "start", "-D", str(server.data_dir), "-l", str(log), "-o", options,
        "-w", "-t", str(int(_START_TIMEOUT)),
    )  # fmt: skip
    if started.returncode != 0:
        detail = log.read_text() if log.exists() else started.stderr
        pytest.fail(f"pg_ctl start failed ({started.returncode}):\n{started.stdout}\n{detail}")
    deadline = time.monotonic() + _START_TIMEOUT
    while True:
        try:
            with psycopg.connect(server.conninfo("postgres"), autocommit=True) as connection:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(_DATABASE)))
            break
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                server.stop()
                pytest.fail(f"PostgreSQL did not answer in {_START_TIMEOUT:.0f}s: {exc}")
            time.sleep(0.1)
    return server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    # Not tmp_path_factory: its directories are private to root, and postgres must reach this.
    root = Path(tempfile.mkdtemp(prefix="images-postgres-"))
    try:
        server = _start(root)
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The session server's test database URL, with every table (and Alembic's) dropped."""
    with psycopg.connect(postgres_server.conninfo(), autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")
    return postgres_server.url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty metadata database: a SQLite file, then the session's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'images.db'}"
    return str(request.getfixturevalue("postgres_url"))
