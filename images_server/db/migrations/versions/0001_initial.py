"""Initial schema: images, uploads, grants and api_keys.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "images",
        sa.Column("hash", sa.CHAR(64), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("has_alpha", sa.Boolean(), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("owner", sa.String(255), nullable=True),
        sa.Column("exif", _JSON, nullable=False),
        sa.Column("placeholder", sa.String(255), nullable=True),
        sa.Column("dominant_color", sa.String(16), nullable=True),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("hash", name=op.f("pk_images")),
    )
    op.create_index(op.f("ix_images_owner"), "images", ["owner"])

    op.create_table(
        "uploads",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("image_hash", sa.CHAR(64), nullable=False),
        sa.Column("user", sa.String(255), nullable=True),
        sa.Column("original_filename", sa.String(255), nullable=True),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["image_hash"],
            ["images.hash"],
            name=op.f("fk_uploads_image_hash_images"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
    )
    op.create_index(op.f("ix_uploads_image_hash"), "uploads", ["image_hash"])

    op.create_table(
        "grants",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("image_hash", sa.CHAR(64), nullable=False),
        sa.Column("user", sa.String(255), nullable=False),
        _timestamp("expires_at"),
        sa.ForeignKeyConstraint(
            ["image_hash"],
            ["images.hash"],
            name=op.f("fk_grants_image_hash_images"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grants")),
        sa.UniqueConstraint("image_hash", "user", name=op.f("uq_grants_image_hash_user")),
    )

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("key_hash", sa.CHAR(64), nullable=False),
        _timestamp("created_at"),
        _timestamp("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_index(op.f("ix_api_keys_user"), "api_keys", ["user"])


def downgrade() -> None:
    op.drop_table("api_keys")
    op.drop_table("grants")
    op.drop_table("uploads")
    op.drop_table("images")
