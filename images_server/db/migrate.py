"""`upgrade(url)`: bring a database's schema up to the newest Alembic revision.

The Alembic configuration is built in code (no `alembic.ini`), pointing at the `migrations/`
folder shipped inside this package, so `images-server migrate` works from an installed wheel.
Upgrading a database that is already at the newest revision does nothing. `schema_behind`
reads (and never changes) how far a database is from the newest revision, for `check`.

Alembic (with Mako and Pygments, about 10 MB) is imported only when there is work for it:
`upgrade` of a SQLite file first reads the revision it is at with the standard library's
`sqlite3` and compares it with the newest one, read from the migration files' `revision` and
`down_revision` lines (`head_revision`); when they agree nothing is imported and nothing
written. Anything unexpected (no file, no table, several heads) leaves the answer to Alembic.

`migrate_embedded(settings)`: when `IMAGES_DATABASE_URL` is unset, the metadata database is the
embedded SQLite file in the data directory, private to this server's processes, so the app,
`serve` and `worker` bring it up to date themselves (under a file lock, as gunicorn's workers
start together). An explicit database may be shared and is migrated only by
`images-server migrate` (which `make run` calls before `serve`).
"""

from __future__ import annotations

import fcntl
import logging
import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError

from images_server.settings import Settings

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# `revision: str = "0004"` and `down_revision: str | None = "0003"` (or `= None`)
_REVISION = re.compile(r"""^(down_)?revision\b[^=\n]*=\s*(?:"([^"]*)"|'([^']*)'|None)""", re.M)

log = logging.getLogger(__name__)


def alembic_config(url: str | URL) -> Config:
    """An Alembic config for `url` and the package's migrations, built without a file."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    rendered = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    config.attributes["database_url"] = rendered
    return config


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Run every migration the database at `url` has not had yet, up to `revision`."""
    if revision == "head" and _sqlite_at_head(url):
        return
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def migrate_embedded(settings: Settings) -> None:
    """Upgrade the embedded SQLite database (no `database_url`); one process at a time."""
    if settings.database_url is not None:
        return
    data_dir = Path(settings.data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with open(data_dir / ".migrate.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            upgrade(settings.database_url_or_default)
    except OSError as error:  # an unusable data dir: the app starts, /readyz says why
        log.error("the metadata database in %s was not migrated: %s", data_dir, error)


def head_revision() -> str | None:
    """The newest revision among the migration files (None unless there is exactly one head),
    read from their text: no Alembic."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for match in _REVISION.finditer(path.read_text(encoding="utf-8")):
            value = match[2] if match[2] is not None else match[3]
            if value is not None:
                (parents if match[1] else revisions).add(value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _sqlite_at_head(url: str | URL) -> bool:
    """Whether `url` is a SQLite file already at `head_revision()` (False when unsure)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return False
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return False
    if name.startswith("file:") or not Path(name).is_file():
        return False
    head = head_revision()
    if head is None:
        return False
    try:
        db = sqlite3.connect(f"{Path(name).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        rows = db.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.Error:  # no such table: never migrated
        return False
    finally:
        db.close()
    return rows == [(head,)]


def schema_behind(connection: Connection) -> str | None:
    """Why the schema behind `connection` is not the newest one, or None when it is."""
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    current = MigrationContext.configure(connection).get_current_revision()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    if current == head:
        return None
    if current is None:
        return "no schema yet: run `images-server migrate`"
    return f"schema at revision {current}, not {head}: run `images-server migrate`"
