"""Tests of the metadata database (models, migrations) on SQLite and PostgreSQL."""
