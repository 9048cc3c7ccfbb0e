"""The metadata database: SQLAlchemy 2 models, an engine factory, small queries and migrations.

`models` holds the typed tables (images, uploads, grants, api_keys), `engine.make_engine`
builds an engine for any SQLAlchemy URL (SQLite by default, PostgreSQL at scale), `queries`
has the few typed helpers the rest of the server uses, and `migrate.upgrade` brings a
database's schema up to date with the Alembic revisions shipped in `migrations/`.
"""
