"""Alembic revisions of the metadata database, oldest first."""
