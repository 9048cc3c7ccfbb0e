"""`upgrade(url)`: bring a database's schema up to the newest Alembic revision.

The Alembic configuration is built in code (no `alembic.ini`), pointing at the `migrations/`
folder shipped inside this package, so `images-server migrate` works from an installed wheel.
Upgrading a database that is already at the newest revision does nothing.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
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
