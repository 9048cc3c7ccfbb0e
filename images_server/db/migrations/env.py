"""Alembic environment: runs the migrations online against the URL `migrate.upgrade` passes.

The URL comes from `config.attributes["database_url"]` (not from an ini file, so a password
with `%` in it needs no escaping), and the engine from `make_engine`, so SQLite gets the same
pragmas as the server. Offline (SQL script) mode is not supported. Alembic's own INFO lines
are held back in the server's logs, so an upgrade that changed something logs one line here.
"""

from __future__ import annotations

import logging

from alembic import context

from images_server.db.engine import make_engine
from images_server.db.models import Base

target_metadata = Base.metadata
log = logging.getLogger("images_server.db.migrate")


def run_migrations_online() -> None:
    url = context.config.attributes.get("database_url")
    if not url:
        raise RuntimeError("no database URL: use images_server.db.migrate.upgrade(url)")
    engine = make_engine(url, query_timeout=None)  # a migration may take its time
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=connection.dialect.name == "sqlite",
            )
            before = context.get_context().get_current_revision()
            with context.begin_transaction():
                context.run_migrations()
            after = context.get_context().get_current_revision()
            if after != before:
                log.info("database schema migrated from %s to %s", before or "empty", after)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline migrations are not supported: run `images-server migrate`")
run_migrations_online()
