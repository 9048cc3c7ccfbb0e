"""Settings of the background work: the job queue and its workers, eager variants,
derivatives, faces (found by the worker, redacted by renders), and packs (how long they are
kept, when a silent job is taken for dead)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from images_server.formats import OUTPUT_FORMATS, SOURCE_FORMAT
from images_server.settings.images import CommaList, split_commas

_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class JobSettings(BaseModel):
    queue_url: str | None = Field(
        None,
        description="job queue: `sqlite:///path/queue.db` or `redis://host:port/db` "
        "(unset: SQLite in the data dir)",
    )
    queue_workers: int = Field(
        2, ge=1, le=64, description="jobs one `images-server worker` runs at once (threads)"
    )
    worker_heartbeat_timeout: int = Field(
        60,
        ge=1,
        description="seconds after a job worker's last heartbeat that it counts as gone: "
        "`/readyz` and `check` fail while jobs wait and no worker is left",
    )
    eager_presets: CommaList = Field(
        ("thumb", "medium"),
        description="presets rendered in the background after each upload (empty: none)",
    )
    eager_formats: CommaList = Field(
        ("avif", "webp"),
        description="formats of those eager variants: `avif`, `webp`, `jpeg`, `png`, `gif` "
        "or `source`",
    )
    derivatives: bool = Field(
        True,
        description="after each upload of a large JPEG, a worker stores downscaled copies "
        "(½, ¼, ⅛… in sRGB, upright) that renders shrinking to at most 1/1.25 of one (½ "
        "when they sharpen) read instead of the original",
    )
    derivatives_max_storage: float = Field(
        0.4,
        ge=0.0,
        le=4.0,
        description="most bytes the derivatives of one original may add, as a share of the "
        "original's (largest copies are left out first)",
    )
    faces: bool = Field(
        True,
        description="after each upload, a worker looks for faces (OpenCV's frontal-face "
        "cascade on a copy at most 1024 px a side) for `crop/face…`; off: face crops are smart",
    )
    redact_faces: Literal["off", "private", "all"] = Field(
        "off",
        description="blur every detected face in every variant (and the original as served) "
        "of private images, or of all images, after the URL's ops; a URL cannot remove it, and "
        "an image whose faces are not detected yet answers 503 with Retry-After (needs "
        "IMAGES_FACES)",
    )
    pack_retention: int = Field(
        86400,
        ge=60,
        description="seconds a pack's source and outputs are kept (`24h`, `90m` work too)",
    )
    pack_stall_timeout: int = Field(
        300,
        ge=1,
        description="seconds without progress after which a pack job is taken to have died "
        "and is run again",
    )

    @field_validator("eager_presets", "eager_formats", mode="before")
    @classmethod
    def _split_eager_lists(cls, value: object) -> object:
        return split_commas(value)

    @field_validator(
        "pack_retention", "pack_stall_timeout", "worker_heartbeat_timeout", mode="before"
    )
    @classmethod
    def _duration(cls, value: object) -> object:
        if isinstance(value, str):
            match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", value)
            if match:
                return int(match[1]) * _UNITS[match[2]]
        return value

    @field_validator("queue_url")
    @classmethod
    def _check_queue_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("sqlite:///", "redis://", "rediss://")):
            raise ValueError("use sqlite:///path/queue.db or redis://host:port/db")
        return url

    @field_validator("eager_formats")
    @classmethod
    def _check_eager_formats(cls, formats: tuple[str, ...]) -> tuple[str, ...]:
        known = {*OUTPUT_FORMATS, SOURCE_FORMAT}
        for name in formats:
            if name not in known:
                raise ValueError(f"{name!r} is not one of {', '.join(sorted(known))}")
        return formats

    @model_validator(mode="after")
    def _redaction_needs_faces(self) -> JobSettings:
        if self.redact_faces != "off" and not self.faces:
            raise ValueError("IMAGES_REDACT_FACES needs IMAGES_FACES: faces must be detected")
        return self
