"""Images keep a focal point (`PUT /image/<hash>/focal`) and the faces the worker found.

`faces` is NULL until the detector has run on the image ([] when it found none): rows written
before this revision have none known, and their `face` crops fall back to `smart`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 00:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json = sa.JSON().with_variant(JSONB(), "postgresql")
    with op.batch_alter_table("images") as batch:  # SQLite cannot ALTER most things in place
        batch.add_column(sa.Column("focal_x", sa.Float(), nullable=True))
        batch.add_column(sa.Column("focal_y", sa.Float(), nullable=True))
        batch.add_column(sa.Column("faces", json, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("images") as batch:
        batch.drop_column("faces")
        batch.drop_column("focal_y")
        batch.drop_column("focal_x")
