"""Packs count the files they render (`files_done` of `files_total`), for "n of N files".

Rows written before this revision get 0 files done and no total; the counts start with the
next pack.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 00:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("packs") as batch:  # SQLite cannot ALTER most things in place
        batch.add_column(sa.Column("files_done", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("files_total", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("packs") as batch:
        batch.drop_column("files_total")
        batch.drop_column("files_done")
