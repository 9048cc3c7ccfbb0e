"""Settings of what the server does to images: the engine, the presets, the limits every
source and pipeline is held to, the render gate; and of what it takes in (uploads, `/external`).
"""

from __future__ import annotations

import ipaddress
import json
import os
from typing import Annotated, Literal

from pydantic import BaseModel, ByteSize, Field, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import NoDecode

from images_server.errors import InvalidPipeline
from images_server.pipeline.parse import parse_pipeline
from images_server.pipeline.presets import DEFAULT_PRESETS, PRESET_MAX_OPS, PRESET_NAME

EngineName = Literal["wand", "vips"]
CommaList = Annotated[tuple[str, ...], NoDecode]
"""A setting written as `a,b,c` (each part stripped, empty parts dropped)."""


def split_commas(value: object) -> object:
    """`a, b,,c` as `("a", "b", "c")`; anything else as it is."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class ImageSettings(BaseModel):
    engine: EngineName = Field(
        "vips", description="image engine: `vips` (pyvips, faster by `make bench`) or `wand`"
    )
    presets: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=lambda: dict(DEFAULT_PRESETS),
        description="JSON object of preset names to pipelines, added to `thumb`, `medium`, `full`",
    )
    jpeg_progressive: bool = Field(False, description="encode JPEG outputs as progressive")
    max_upload_bytes: ByteSize = Field(
        ByteSize(25_000_000), description="largest upload in bytes (else 413); `25MB` works"
    )
    max_pixels: int = Field(
        50_000_000, ge=1, description="largest source in pixels, read from the header (else 413)"
    )
    max_side: int = Field(
        16384,
        ge=1,
        le=65535,
        description="longest side of a source, read from the header (else 413)",
    )
    max_frames: int = Field(
        100, ge=1, le=10_000, description="most frames in an animated source (else 413)"
    )
    max_animation_pixels: int = Field(
        100_000_000,
        ge=1,
        description="width x height x frames of an animated source, from the header (else 413)",
    )
    max_output_pixels: int = Field(
        50_000_000, ge=1, description="largest output in pixels a pipeline may ask for (else 400)"
    )
    max_ops: int = Field(10, ge=1, le=100, description="most ops in one pipeline (else 400)")
    render_timeout: float = Field(
        20.0, gt=0, le=600, description="seconds one render may take before it is cut off (503)"
    )
    max_concurrent_renders: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=1,
        le=64,
        description="renders the whole server runs at once, shared by its web workers "
        "(cache misses and upload decodes; more wait)",
    )
    render_queue: int = Field(
        16,
        ge=0,
        le=1024,
        description="renders that may wait for a slot, server-wide (past it: 503 overloaded)",
    )
    render_queue_timeout: float = Field(
        10.0,
        ge=0,
        le=600,
        description="seconds a render may wait for a slot before the answer is 503 overloaded",
    )

    @field_validator("presets", mode="before")
    @classmethod
    def _presets_json(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise PydanticCustomError("json_invalid", "not valid JSON") from None

    @field_validator("presets")
    @classmethod
    def _check_presets(cls, presets: dict[str, str]) -> dict[str, str]:
        merged = DEFAULT_PRESETS | presets
        for name, pipeline in merged.items():
            if not PRESET_NAME.fullmatch(name):
                raise ValueError(f"preset name {name!r} must be lowercase letters, digits, - or _")
            try:
                parse_pipeline(pipeline, PRESET_MAX_OPS, presets={})
            except InvalidPipeline as exc:
                raise ValueError(f"preset {name!r}: {exc.message}") from exc
        return merged


class ExternalSettings(BaseModel):
    upload_enabled: bool = Field(True, description="`POST /upload` on or off (off: 403)")
    external_enabled: bool = Field(True, description="`/external` on or off (off: 403)")
    external_allow_hosts: CommaList = Field(
        (),
        description="`host[:port]` or CIDR entries `/external` may fetch even when private",
    )
    external_max_bytes: ByteSize = Field(
        ByteSize(25_000_000), description="largest body `/external` downloads (else 413)"
    )
    external_timeout: float = Field(
        10.0, gt=0, le=120, description="seconds `/external` may spend on one fetch (else 504)"
    )
    external_max_redirects: int = Field(
        3, ge=0, le=3, description="redirects `/external` follows, each checked again"
    )

    @field_validator("external_allow_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        return split_commas(value)

    @field_validator("external_allow_hosts")
    @classmethod
    def _check_allow_entries(cls, entries: tuple[str, ...]) -> tuple[str, ...]:
        for entry in entries:
            if "/" in entry:
                ipaddress.ip_network(entry, strict=False)  # ValueError names the entry
        return entries
