"""Alembic migrations of the metadata database (env.py, script template, versions/)."""
