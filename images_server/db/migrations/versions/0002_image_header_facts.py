"""Images keep their EXIF orientation and colour space, so `/metadata` needs only the row.

Rows written before this revision get orientation 1 and no colour space; the server fills
both in from the stored bytes the first time such an image's metadata is asked for.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 00:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("images") as batch:  # SQLite cannot ALTER most things in place
        batch.add_column(sa.Column("orientation", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("color_space", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("images") as batch:
        batch.drop_column("color_space")
        batch.drop_column("orientation")
