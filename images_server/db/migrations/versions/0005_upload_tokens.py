"""Single-use upload tokens: the SHA-256 of each, its user, size limit, visibility and expiry,
and when it was spent (`POST /upload-tokens`, docs/api.md §5).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 00:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "upload_tokens",
        sa.Column("token_hash", sa.CHAR(64), nullable=False),
        sa.Column("user", sa.String(255), nullable=True),
        sa.Column("max_bytes", sa.BigInteger(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_upload_tokens")),
    )
    op.create_index(op.f("ix_upload_tokens_expires_at"), "upload_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_table("upload_tokens")
