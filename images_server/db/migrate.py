"""`upgrade(url)`: bring a database's schema up to the newest Alembic revision.

The Alembic configuration is built in code (no `alembic.ini`), pointing at the `migrations/`
folder shipped inside this package, so `images-server migrate` works from an installed wheel.
Upgrading a database that is already at the newest revision does nothing. `schema_behind`
reads (and never changes) how far a database is from the newest revision, for `check`.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.engine import URL

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | URL) -> Config:
    """An Alembic config for `url` and the package's migrations, built without a file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    rendered = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    config.attributes["database_url"] = rendered
    return config


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Run every migration the database at `url` has not had yet, up to `revision`."""
    command.upgrade(alembic_config(url), revision)


def schema_behind(connection: Connection) -> str | None:
    """Why the schema behind `connection` is not the newest one, or None when it is."""
    current = MigrationContext.configure(connection).get_current_revision()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    if current == head:
        return None
    if current is None:
        return "no schema yet: run `images-server migrate`"
    return f"schema at revision {current}, not {head}: run `images-server migrate`"
