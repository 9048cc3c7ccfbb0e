"""Settings of what the server does to images: the engine, the presets, the limits every
source and pipeline is held to, the render gate; and of what it takes in (uploads, `/external`).
"""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import replace
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ByteSize, Field, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import NoDecode

from images_server.errors import InvalidPipeline
from images_server.pipeline.hints import DEFAULT_WIDTHS
from images_server.pipeline.negotiation import AUTO_FORMATS, NEGOTIABLE
from images_server.pipeline.ops import DprAuto, Op, ResizeAuto
from images_server.pipeline.overlay import Overlay, parse_overlay
from images_server.pipeline.parse import parse_pipeline
from images_server.pipeline.presets import DEFAULT_PRESETS, PRESET_MAX_OPS, PRESET_NAME

EngineName = Literal["wand", "vips"]
CommaList = Annotated[tuple[str, ...], NoDecode]
"""A setting written as `a,b,c` (each part stripped, empty parts dropped)."""
IntList = Annotated[tuple[int, ...], NoDecode]
"""A setting written as `1,2,3`."""


def uses_hints(ops: tuple[Op, ...]) -> bool:
    """Whether `ops` take values from client hints, which only a request has."""
    return any(isinstance(op, DprAuto | ResizeAuto) for op in ops)


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
    auto_formats: CommaList = Field(
        AUTO_FORMATS,
        description="what `format/auto` may choose when `Accept` lists it, in order of "
        "preference (of `avif`, `webp`, `jxl`); JPEG XL is left out by default: few browsers "
        "show it and it costs more to encode (empty: always the source's format)",
    )
    watermark: str = Field(
        "",
        description="an uploaded image laid over every output, as `overlay`'s argument "
        "(`<hash>,se,10,o60,s20`); a URL cannot remove it (empty: none)",
    )
    watermark_min_width: int = Field(
        0, ge=0, le=65535, description="outputs narrower than this get no watermark"
    )
    client_hints: bool = Field(
        False,
        description="image responses ask for client hints (`Accept-CH`), and `dpr/auto` and "
        "`resize/auto` take the DPR and width from them (off: those ops are `400`)",
    )
    client_hints_widths: IntList = Field(
        DEFAULT_WIDTHS,
        description="widths a hinted width is rounded up to, comma-separated (mirror a change "
        "in nginx/nginx.conf's maps)",
    )
    client_hints_fallback_width: int = Field(
        1280,
        ge=0,
        le=65535,
        description="width `resize/auto` fits to when a request has no width hint (`0`: no resize)",
    )
    save_data_quality_step: int = Field(
        15,
        ge=0,
        le=99,
        description="how much `Save-Data: on` lowers the default quality of a URL with a "
        "client-hint op and no `quality` (never below 30; `0`: off)",
    )
    maxbytes_resize: bool = Field(
        False,
        description="maxbytes may shrink an output that does not fit at quality 1 (else 400)",
    )
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
        default_factory=lambda: (os.cpu_count() or 1) + 1,
        ge=1,
        le=64,
        description="renders the whole server runs at once, shared by its web workers "
        "(cache misses and upload decodes; more wait); one per core and one more, for the "
        "cores a render's own request leaves idle while it reads its source or writes the cache",
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
                ops = parse_pipeline(pipeline, PRESET_MAX_OPS, presets={})
            except InvalidPipeline as exc:
                raise ValueError(f"preset {name!r}: {exc.message}") from exc
            if uses_hints(ops) and not name.endswith("-auto"):  # NGINX keys on the name
                raise ValueError(f"preset {name!r} uses client hints: its name must end in -auto")
        return merged

    @field_validator("auto_formats", "client_hints_widths", mode="before")
    @classmethod
    def _split_image_lists(cls, value: object) -> object:
        return split_commas(value)

    @field_validator("auto_formats")
    @classmethod
    def _check_auto_formats(cls, formats: tuple[str, ...]) -> tuple[str, ...]:
        for name in formats:
            if name not in NEGOTIABLE:
                raise ValueError(f"{name!r} is not one of " + ", ".join(NEGOTIABLE))
        if len(set(formats)) != len(formats):
            raise ValueError("a format is listed more than once")
        return formats

    @field_validator("client_hints_widths")
    @classmethod
    def _check_widths(cls, widths: tuple[int, ...]) -> tuple[int, ...]:
        if not widths or not all(1 <= width <= 65535 for width in widths):
            raise ValueError("give one or more widths, each 1..65535")
        return tuple(sorted(set(widths)))

    @field_validator("watermark")
    @classmethod
    def _check_watermark(cls, value: str) -> str:
        if value.strip():
            parse_overlay(value.strip())  # ValueError names what is wrong
        return value.strip()

    @cached_property
    def watermark_overlay(self) -> Overlay | None:
        """The server-wide watermark as the overlay op render appends to every plan (parsed
        once, not on every request)."""
        if not self.watermark:
            return None
        overlay = parse_overlay(self.watermark)
        return replace(overlay, min_width=max(overlay.min_width, self.watermark_min_width))


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
    svg_enabled: bool = Field(False, description="accept SVG uploads (sanitized, rasterized)")

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
