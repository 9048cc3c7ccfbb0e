"""The metadata tables as typed SQLAlchemy 2 models (`Mapped[...]` on a `DeclarativeBase`).

`Image` is one stored original, keyed by its SHA-256 content hash; `Upload` records each time
it was uploaded (deleted with the image); `Grant` lets a user read a private image until a
time, one per (image, user); `ApiKey` keeps only the SHA-256 of a key, never the key, and
when it was revoked; `UploadToken` likewise keeps only the SHA-256 of a single-use upload
token, with its user, limits, expiry and when it was spent (revision 0005). JSON columns are
plain JSON on SQLite and JSONB on PostgreSQL. Every timestamp is timezone-aware. The Alembic
revisions in `migrations/` create this same schema (0002 added `orientation` and
`color_space`, so `/metadata` is served from the row alone; 0006 the stored focal point and
the faces the worker found, as [x, y, w, h] in 0..1).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    CHAR,
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

JsonType = JSON().with_variant(JSONB(), "postgresql")
NullableJson = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp, stored in UTC; read back aware on SQLite too.

    SQLite has no time zone type and returns naive values: they are UTC, and marked so here.
    A naive value is refused on the way in, rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Image(Base):
    __tablename__ = "images"

    hash: Mapped[str] = mapped_column(CHAR(64), primary_key=True)
    bytes: Mapped[int] = mapped_column(BigInteger)
    format: Mapped[str] = mapped_column(String(16))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    has_alpha: Mapped[bool] = mapped_column(Boolean)
    frames: Mapped[int] = mapped_column(Integer, default=1)
    orientation: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    color_space: Mapped[str | None] = mapped_column(String(32))
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    owner: Mapped[str | None] = mapped_column(String(255), index=True)
    exif: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    placeholder: Mapped[str | None] = mapped_column(String(255))
    dominant_color: Mapped[str | None] = mapped_column(String(16))
    focal_x: Mapped[float | None] = mapped_column(Float)  # 0..1 of the upright width
    focal_y: Mapped[float | None] = mapped_column(Float)
    faces: Mapped[list[list[float]] | None] = mapped_column(NullableJson)  # None: undetected
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    uploads: Mapped[list[Upload]] = relationship(
        back_populates="image", cascade="all, delete-orphan", passive_deletes=True
    )
    grants: Mapped[list[Grant]] = relationship(
        back_populates="image", cascade="all, delete-orphan", passive_deletes=True
    )


class Upload(Base):
    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    image_hash: Mapped[str] = mapped_column(
        CHAR(64), ForeignKey("images.hash", ondelete="CASCADE"), index=True
    )
    user: Mapped[str | None] = mapped_column(String(255))
    original_filename: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    image: Mapped[Image] = relationship(back_populates="uploads")


class Grant(Base):
    __tablename__ = "grants"
    __table_args__ = (UniqueConstraint("image_hash", "user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    image_hash: Mapped[str] = mapped_column(CHAR(64), ForeignKey("images.hash", ondelete="CASCADE"))
    user: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())

    image: Mapped[Image] = relationship(back_populates="grants")


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user: Mapped[str] = mapped_column(String(255), index=True)
    key_hash: Mapped[str] = mapped_column(CHAR(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class UploadToken(Base):
    """A single-use upload token (`POST /upload-tokens`): only its SHA-256 is stored."""

    __tablename__ = "upload_tokens"

    token_hash: Mapped[str] = mapped_column(CHAR(64), primary_key=True)
    user: Mapped[str | None] = mapped_column(String(255))
    max_bytes: Mapped[int] = mapped_column(BigInteger)
    public: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Pack(Base):
    """A responsive image pack job: its options, state, and (when done) its manifest.

    `id` is 128 random bits in hex, the pack's only handle. The creator is an API user
    (`owner`) or a browser session (`session_hash`, the SHA-256 of its cookie). `source_namespace`
    says whether the source is the pack's own private copy (`packs`) or an uploaded original.
    """

    __tablename__ = "packs"

    id: Mapped[str] = mapped_column(CHAR(32), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(255), index=True)
    session_hash: Mapped[str | None] = mapped_column(CHAR(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    files_done: Mapped[int] = mapped_column(Integer, default=0)
    files_total: Mapped[int | None] = mapped_column(Integer)  # known once the source is analysed
    error: Mapped[str | None] = mapped_column(Text)
    source_namespace: Mapped[str] = mapped_column(String(16))
    source_hash: Mapped[str] = mapped_column(CHAR(64))
    source_name: Mapped[str] = mapped_column(String(255))
    options: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    settings: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    manifest: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
