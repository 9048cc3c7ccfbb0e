"""Responsive image packs: one row per pack job.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 00:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _timestamp(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "packs",
        sa.Column("id", sa.CHAR(32), nullable=False),
        sa.Column("owner", sa.String(255), nullable=True),
        sa.Column("session_hash", sa.CHAR(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("source_namespace", sa.String(16), nullable=False),
        sa.Column("source_hash", sa.CHAR(64), nullable=False),
        sa.Column("source_name", sa.String(255), nullable=False),
        sa.Column("options", _JSON, nullable=False),
        sa.Column("analysis", _JSON, nullable=True),
        sa.Column("settings", _JSON, nullable=True),
        sa.Column("manifest", _JSON, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        _timestamp("expires_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_packs")),
    )
    op.create_index(op.f("ix_packs_owner"), "packs", ["owner"])
    op.create_index(op.f("ix_packs_session_hash"), "packs", ["session_hash"])
    op.create_index(op.f("ix_packs_expires_at"), "packs", ["expires_at"])


def downgrade() -> None:
    op.drop_table("packs")
