"""Typed, frozen settings built from the `IMAGES_*` environment variables (docs/api.md §8).

`Settings()` reads the environment; `Settings(**values)` builds one for tests. A bad value is
reported at start by `load_settings`, as one line per offending variable, instead of a trace.
Every field has a one-line description: the README's settings table is checked against them.

Secrets (`SECRET_FIELDS`) may also come from a file, as Docker and Compose secrets are mounted:
`IMAGES_<NAME>_FILE=/run/secrets/x` reads the value from that file, its trailing newline
stripped; setting both the variable and its `_FILE` is an error. `load_settings` also warns,
once per process tree, about an `IMAGES_*` variable that is no setting (a typo would otherwise
be silently ignored), naming the closest valid name.
"""

from __future__ import annotations

import difflib
import ipaddress
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic_settings
from limits import parse_many
from pydantic import ByteSize, Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from images_server.errors import InvalidPipeline
from images_server.pipeline.hints import DEFAULT_WIDTHS
from images_server.pipeline.ops import DprAuto, Op, ResizeAuto
from images_server.pipeline.overlay import Overlay, parse_overlay
from images_server.pipeline.parse import PARSERS, parse_pipeline
from images_server.pipeline.presets import DEFAULT_PRESETS, PRESET_MAX_OPS, PRESET_NAME

EngineName = Literal["wand", "vips"]

CommaList = Annotated[tuple[str, ...], NoDecode]
IntList = Annotated[tuple[int, ...], NoDecode]


log = logging.getLogger(__name__)

PREFIX = "IMAGES_"
_URI_PREFIX = re.compile(r"/(?:(?!\.\.?/)[A-Za-z0-9._~-]+/)+")  # IMAGES_ACCEL_REDIRECT

SECRET_FIELDS = (
    "secret_key",
    "api_keys",
    "database_url",
    "queue_url",
    "rate_limit_storage_url",
    "cloudflare_api_token",
)
"""Settings that may hold a secret, so may be read from a file named by `IMAGES_<NAME>_FILE`."""

READ_ELSEWHERE = frozenset(
    {
        "IMAGES_SERVE_WORKER",  # `serve --worker/--no-worker`, read by gunicorn_conf
        "IMAGES_SERVER_IMAGE",  # the image docker-compose.yml runs
        "IMAGES_TEST_ARTIFACTS",  # where the browser tests save screenshots
    }
)
"""`IMAGES_*` variables that are not settings but are read by other parts of the project."""

# Set in the environment once the unknown variables were reported, so the processes this one
# starts or becomes (gunicorn's master and workers, the embedded job worker) stay quiet.
_WARNED_MARK = "_IMAGES_SETTINGS_WARNED"


def _uses_hints(ops: tuple[Op, ...]) -> bool:
    """Whether `ops` take values from client hints, which only a request has."""
    return any(isinstance(op, DprAuto | ResizeAuto) for op in ops)


class SettingsError(Exception):
    """A setting has a value the server cannot start with."""


class _SecretFiles(PydanticBaseSettingsSource):
    """`IMAGES_<NAME>_FILE`: a secret setting read from the file that variable names."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads every secret at once

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in SECRET_FIELDS:
            variable = f"{PREFIX}{name.upper()}"
            path = os.environ.get(f"{variable}_FILE", "")
            if not path:
                continue
            if os.environ.get(variable, ""):
                raise SettingsError(
                    f"invalid settings:\n  {variable} and {variable}_FILE are both set: "
                    "set only one"
                )
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
                raise SettingsError(
                    f"invalid settings:\n  {variable}_FILE: cannot read {path} ({reason})"
                ) from exc
            values[name] = text.rstrip("\r\n")
        return values


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, frozen=True, extra="ignore")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        secret_files = _SecretFiles(settings_cls)
        return init_settings, secret_files, env_settings, dotenv_settings, file_secret_settings

    host: str = Field("127.0.0.1", description="address `make run` / `serve` listens on")
    port: int = Field(8000, ge=1, le=65535, description="port `make run` / `serve` listens on")
    workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=1,
        le=64,
        description="gunicorn worker processes (default: one per core)",
    )
    threads: int = Field(
        16,
        ge=1,
        le=64,
        description="threads per gunicorn worker; above 1 the gthread worker is used, so "
        "cache hits, slow clients and network waits never queue behind a render (1: sync)",
    )
    preload: bool = Field(
        True,
        description="gunicorn's master imports the app before it forks the web workers, and "
        "forks the embedded job worker from itself, so they share those pages (false: each "
        "process imports its own copy)",
    )
    client_timeout: float = Field(
        10.0,
        gt=0,
        le=300,
        description="seconds a client has for a request's head; beyond it a request or "
        "response must move at least 4 KiB/s, or the connection is closed",
    )
    data_dir: Path = Field(
        Path("./data"), description="root of everything the embedded defaults write"
    )
    engine: EngineName = Field(
        "vips", description="image engine: `vips` (pyvips, faster by `make bench`) or `wand`"
    )
    storage: Literal["filesystem", "s3"] = Field(
        "filesystem", description="where originals live: `filesystem` or `s3`"
    )
    s3_bucket: str = Field("", description="S3 bucket for originals (with `IMAGES_STORAGE=s3`)")
    s3_endpoint_url: str | None = Field(
        None, description="S3 endpoint, e.g. `http://minio:9000` (unset: AWS)"
    )
    s3_region: str | None = Field(
        None, description="S3 region (unset: `AWS_DEFAULT_REGION` or us-east-1)"
    )
    cache: Literal["filesystem", "s3", "none"] = Field(
        "filesystem", description="result cache: `filesystem`, `s3` (shared) or `none`"
    )
    cache_s3_bucket: str = Field(
        "", description="S3 bucket of the `s3` result cache (unset: `IMAGES_S3_BUCKET`)"
    )
    cache_s3_prefix: str = Field(
        "cache/", description="key prefix of the `s3` result cache in its bucket"
    )
    cache_max_bytes: ByteSize = Field(
        ByteSize(1_000_000_000),
        description="result cache size; least recently used variants are evicted beyond it",
    )
    accel_redirect: str = Field(
        "",
        description="URI prefix of NGINX's internal location over the result cache directory, "
        "e.g. `/_cache/`: filesystem-cache hits NGINX marks are sent by NGINX "
        "(`X-Accel-Redirect`); empty: off",
    )
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
    max_upload_bytes: ByteSize = Field(
        ByteSize(25_000_000), description="largest upload in bytes (else 413); `25MB` works"
    )
    max_pixels: int = Field(
        50_000_000, ge=1, description="largest source in pixels, read from the header (else 413)"
    )
    max_output_pixels: int = Field(
        50_000_000, ge=1, description="largest output in pixels a pipeline may ask for (else 400)"
    )
    max_ops: int = Field(10, ge=1, le=100, description="most ops in one pipeline (else 400)")
    max_frames: int = Field(
        100, ge=1, le=10_000, description="most frames in an animated source (else 413)"
    )
    presets: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_PRESETS),
        description="JSON object of preset names to pipelines, added to `thumb`, `medium`, `full`",
    )
    jpeg_progressive: bool = Field(False, description="encode JPEG outputs as progressive")
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
    max_side: int = Field(
        16384,
        ge=1,
        le=65535,
        description="longest side of a source, read from the header (else 413)",
    )
    max_animation_pixels: int = Field(
        100_000_000,
        ge=1,
        description="width x height x frames of an animated source, from the header (else 413)",
    )
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
    secret_key: CommaList = Field(
        (),
        description="keys that sign URLs, comma-separated: the first signs, any verifies "
        "(unset: one is generated once and kept in the data dir)",
    )
    require_signature: bool = Field(
        False, description="every transform URL must carry a valid signature"
    )
    only_presets: bool = Field(
        False,
        description="unsigned transform URLs may use only presets (`preset/<name>`, "
        "`?size=`) and the ops of IMAGES_ALLOWED_OPS; anything else needs a signature",
    )
    allowed_ops: CommaList = Field(
        (),
        description="ops an unsigned URL may use besides presets, e.g. `resize,format`; "
        "empty: every op (unless IMAGES_ONLY_PRESETS)",
    )
    allowed_widths: CommaList = Field(
        (),
        description="widths an unsigned `resize` may ask for, e.g. `320,640,1280` (after "
        "`dpr`); empty: any",
    )
    api_keys: CommaList = Field(
        (),
        description="`user:key,user2:key2`; when set (or when `images-server keys create` has "
        "stored a key), writes need `Authorization: Bearer <key>`",
    )
    rate_limit_uploads: str = Field(
        "60/minute", description="per-client limit on `POST /upload` (limits syntax; `0` is off)"
    )
    rate_limit_external: str = Field(
        "120/minute", description="per-client limit on `/external` requests (`0` is off)"
    )
    rate_limit_renders: str = Field(
        "0", description="per-client limit on renders that miss the cache (`0` is off)"
    )
    rate_limit_storage_url: str = Field(
        "memory://",
        description="where rate-limit counters live: `memory://` or `redis://host:port`",
    )
    trusted_proxies: int = Field(
        0, ge=0, le=5, description="proxy hops whose `X-Forwarded-For` is trusted (1 behind NGINX)"
    )
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the metadata database (unset: SQLite in the data dir)"
    )
    default_public: bool = Field(
        True, description="visibility of an upload that does not send `public`"
    )
    upload_token_ttl: int = Field(
        600, ge=1, description="seconds an upload token from `/upload-tokens` lasts unless asked"
    )
    upload_token_max_ttl: int = Field(
        3600, ge=1, description="longest `expires_in` an upload token may ask for (else 400)"
    )
    cors_origins: CommaList = Field(
        (),
        description="origins (`https://app.example.com`) whose pages may `POST /upload` with an "
        "upload token (CORS); `*` is any origin (unset: none)",
    )
    admin_users: CommaList = Field(
        ("admin",),
        description="users whose key may delete, sign, share and purge any image",
    )
    signed_url_ttl: int = Field(
        3600, ge=1, description="seconds a URL from `/signed-url` stays valid unless asked"
    )
    share_ttl: int = Field(
        7 * 86400, ge=1, description="seconds a `/share` grant lasts unless asked"
    )
    max_link_ttl: int = Field(
        365 * 86400,
        ge=1,
        description="longest `expires_in` a signed URL or a share may ask for (else 400)",
    )
    quota_bytes: ByteSize = Field(
        ByteSize(0), description="stored bytes one user's images may total (`0`: unlimited)"
    )
    quota_images: int = Field(0, ge=0, description="images one user may own (`0`: unlimited)")
    queue_url: str | None = Field(
        None,
        description="job queue: `sqlite:///path/queue.db` or `redis://host:port/db` "
        "(unset: SQLite in the data dir)",
    )
    queue_workers: int = Field(
        2, ge=1, le=64, description="jobs one `images-server worker` runs at once (threads)"
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
    worker_heartbeat_timeout: int = Field(
        60,
        ge=1,
        description="seconds after a job worker's last heartbeat that it counts as gone: "
        "`/readyz` and `check` fail while jobs wait and no worker is left",
    )
    cdn_base_url: str | None = Field(
        None,
        description="base of every URL the API returns, e.g. `https://cdn.example.com` "
        "(unset: the request's own host)",
    )
    nginx_purge_url: str | None = Field(
        None,
        description="NGINX purge endpoint the app calls on DELETE and `/purge`, "
        "e.g. `http://nginx:8080/_purge` (unset: NGINX is not purged)",
    )
    cloudflare_zone_id: str | None = Field(
        None, description="Cloudflare zone whose cache DELETE and `/purge` purge by prefix"
    )
    cloudflare_api_token: str | None = Field(
        None, description="Cloudflare API token with Cache Purge permission for that zone"
    )

    @field_validator(
        "external_allow_hosts",
        "secret_key",
        "api_keys",
        "admin_users",
        "cors_origins",
        "eager_presets",
        "eager_formats",
        "allowed_ops",
        "allowed_widths",
        "client_hints_widths",
        mode="before",
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("allowed_ops")
    @classmethod
    def _check_allowed_ops(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        for name in names:
            if name not in PARSERS:
                raise ValueError(f"{name!r} is not an op (ops: {', '.join(PARSERS)})")
        return names

    @field_validator("allowed_widths")
    @classmethod
    def _check_allowed_widths(cls, widths: tuple[str, ...]) -> tuple[str, ...]:
        for width in widths:
            if not width.isdigit() or not 1 <= int(width) <= 65535:
                raise ValueError(f"{width!r} is not a width (1..65535)")
        return tuple(str(int(width)) for width in widths)

    @field_validator("api_keys")
    @classmethod
    def _check_api_keys(cls, entries: tuple[str, ...]) -> tuple[str, ...]:
        for entry in entries:
            user, _, key = entry.partition(":")
            if not user or len(key) < 16:
                raise ValueError("each entry is user:key, with a key of at least 16 characters")
        return entries

    @field_validator("rate_limit_uploads", "rate_limit_external", "rate_limit_renders")
    @classmethod
    def _check_rate_limit(cls, value: str) -> str:
        if value.strip() != "0":
            parse_many(value)  # ValueError names what is wrong
        return value.strip()

    @field_validator("rate_limit_storage_url")
    @classmethod
    def _check_limit_storage(cls, url: str) -> str:
        if not url.startswith(("memory://", "redis://", "rediss://", "redis+unix://")):
            raise ValueError("use memory:// or redis://host:port")
        return url

    @field_validator("external_allow_hosts")
    @classmethod
    def _check_allow_entries(cls, entries: tuple[str, ...]) -> tuple[str, ...]:
        for entry in entries:
            if "/" in entry:
                ipaddress.ip_network(entry, strict=False)  # ValueError names the entry
        return entries

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
            if _uses_hints(ops) and not name.endswith("-auto"):  # NGINX keys on the name
                raise ValueError(f"preset {name!r} uses client hints: its name must end in -auto")
        return merged

    @field_validator(
        "pack_retention", "pack_stall_timeout", "worker_heartbeat_timeout", mode="before"
    )
    @classmethod
    def _duration(cls, value: object) -> object:
        if isinstance(value, str):
            match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", value)
            if match:
                return int(match[1]) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match[2]]
        return value

    @field_validator("watermark")
    @classmethod
    def _check_watermark(cls, value: str) -> str:
        if value.strip():
            parse_overlay(value.strip())  # ValueError names what is wrong
        return value.strip()

    @field_validator("queue_url")
    @classmethod
    def _check_queue_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("sqlite:///", "redis://", "rediss://")):
            raise ValueError("use sqlite:///path/queue.db or redis://host:port/db")
        return url

    @field_validator("eager_formats")
    @classmethod
    def _check_eager_formats(cls, formats: tuple[str, ...]) -> tuple[str, ...]:
        known = {"avif", "webp", "jpeg", "png", "gif", "source"}
        for name in formats:
            if name not in known:
                raise ValueError(f"{name!r} is not one of {', '.join(sorted(known))}")
        return formats

    @field_validator("client_hints_widths")
    @classmethod
    def _check_widths(cls, widths: tuple[int, ...]) -> tuple[int, ...]:
        if not widths or not all(1 <= width <= 65535 for width in widths):
            raise ValueError("give one or more widths, each 1..65535")
        return tuple(sorted(set(widths)))

    @model_validator(mode="after")
    def _eager_presets_need_no_hints(self) -> Settings:
        for name in self.eager_presets:
            if _uses_hints(parse_pipeline(self.presets.get(name, ""), PRESET_MAX_OPS, {})):
                raise ValueError(
                    f"IMAGES_EAGER_PRESETS: {name!r} uses client hints, which only a request has"
                )
        return self

    @model_validator(mode="after")
    def _eager_presets_exist(self) -> Settings:
        for name in self.eager_presets:
            if name not in self.presets:
                raise ValueError(f"IMAGES_EAGER_PRESETS: no preset named {name!r}")
        return self

    @model_validator(mode="after")
    def _link_ttls_fit_the_longest(self) -> Settings:
        """A default lifetime set longer than the longest allowed is an error; one left at its
        default is shortened to fit (so `IMAGES_MAX_LINK_TTL` alone can lower them all)."""
        for name in ("signed_url_ttl", "share_ttl"):
            if getattr(self, name) <= self.max_link_ttl:
                continue
            if name in self.model_fields_set:
                raise ValueError(f"IMAGES_{name.upper()} is longer than IMAGES_MAX_LINK_TTL")
            self.__dict__[name] = self.max_link_ttl  # frozen model: set while validating
        return self

    @model_validator(mode="after")
    def _upload_token_ttl_fits(self) -> Settings:
        if self.upload_token_ttl > self.upload_token_max_ttl:
            raise ValueError("IMAGES_UPLOAD_TOKEN_TTL is longer than IMAGES_UPLOAD_TOKEN_MAX_TTL")
        return self

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        for origin in origins:
            if origin != "*" and not re.fullmatch(r"https?://[^/\s]+", origin):
                raise ValueError(f"{origin!r}: an origin is scheme://host[:port], no path")
        return tuple(origin.lower() for origin in origins)

    @model_validator(mode="after")
    def _redaction_needs_faces(self) -> Settings:
        if self.redact_faces != "off" and not self.faces:
            raise ValueError("IMAGES_REDACT_FACES needs IMAGES_FACES: faces must be detected")
        return self

    @model_validator(mode="after")
    def _cloudflare_is_complete(self) -> Settings:
        parts = (self.cloudflare_zone_id, self.cloudflare_api_token)
        if any(parts) and not all(parts):
            raise ValueError("set both IMAGES_CLOUDFLARE_ZONE_ID and IMAGES_CLOUDFLARE_API_TOKEN")
        if all(parts) and not self.cdn_base_url:
            raise ValueError("purging Cloudflare by prefix needs IMAGES_CDN_BASE_URL")
        return self

    @model_validator(mode="after")
    def _s3_needs_bucket(self) -> Settings:
        if self.storage == "s3" and not self.s3_bucket:
            raise ValueError("IMAGES_STORAGE=s3 needs IMAGES_S3_BUCKET")
        return self

    @field_validator("cache_s3_prefix")
    @classmethod
    def _cache_prefix_is_a_folder(cls, value: str) -> str:
        if value.startswith("/") or "//" in value or ".." in value.split("/"):
            raise ValueError("must be a relative key prefix like `cache/`")
        return value if not value or value.endswith("/") else value + "/"

    @field_validator("accel_redirect")
    @classmethod
    def _accel_redirect_is_a_uri_prefix(cls, value: str) -> str:
        if value and not _URI_PREFIX.fullmatch(value):
            raise ValueError("must be empty or a URI prefix like `/_cache/` (from / to /)")
        return value

    @model_validator(mode="after")
    def _s3_cache_needs_a_bucket(self) -> Settings:
        if self.cache != "s3":
            return self
        if not self.cache_s3_bucket_or_default:
            raise ValueError("IMAGES_CACHE=s3 needs IMAGES_CACHE_S3_BUCKET or IMAGES_S3_BUCKET")
        shared = self.storage == "s3" and self.cache_s3_bucket_or_default == self.s3_bucket
        if shared and not self.cache_s3_prefix:
            raise ValueError(
                "an s3 result cache in the originals' bucket needs IMAGES_CACHE_S3_PREFIX "
                "(its lifecycle rule must not reach the originals)"
            )
        return self

    @property
    def cache_s3_bucket_or_default(self) -> str:
        return self.cache_s3_bucket or self.s3_bucket

    @property
    def watermark_overlay(self) -> Overlay | None:
        """The server-wide watermark as the overlay op render appends to every plan."""
        if not self.watermark:
            return None
        overlay = parse_overlay(self.watermark)
        return replace(overlay, min_width=max(overlay.min_width, self.watermark_min_width))

    @property
    def originals_dir(self) -> Path:
        return self.data_dir / "originals"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def database_url_or_default(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir}/images.db"

    @property
    def queue_url_or_default(self) -> str:
        return self.queue_url or f"sqlite:///{self.data_dir}/queue.db"


def known_variables() -> frozenset[str]:
    """Every `IMAGES_*` variable something in this project reads."""
    fields = {f"{PREFIX}{name.upper()}" for name in Settings.model_fields}
    files = {f"{PREFIX}{name.upper()}_FILE" for name in SECRET_FIELDS}
    return frozenset(fields | files | READ_ELSEWHERE)


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """A warning for each `IMAGES_*` variable in `environ` that nothing reads."""
    known = known_variables()
    warnings = []
    for name in sorted(environ):
        if not name.startswith(PREFIX) or name in known:
            continue
        # Compared without the shared prefix, which would make any two names look alike.
        suffixes = {known_name.removeprefix(PREFIX): known_name for known_name in known}
        close = difflib.get_close_matches(name.removeprefix(PREFIX), sorted(suffixes), 1, 0.7)
        hint = (
            f"did you mean {suffixes[close[0]]}?"
            if close
            else "see the Settings table in the README"
        )
        warnings.append(f"{name} is not a setting; {hint}")
    return warnings


def warn_unknown_variables() -> None:
    """Log `unknown_variables` of this process's environment, once per process tree."""
    if os.environ.get(_WARNED_MARK):
        return
    os.environ[_WARNED_MARK] = "1"
    for warning in unknown_variables(os.environ):
        log.warning("%s", warning)


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, turning validation errors into one clear message;
    warns about unknown `IMAGES_*` variables (`warn_unknown_variables`)."""
    warn_unknown_variables()
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except pydantic_settings.SettingsError as exc:  # a value that is not the JSON it must be
        match = re.search(r'field "(\w+)"', str(exc))
        name = f"IMAGES_{match[1].upper()}" if match else "settings"
        raise SettingsError(f"invalid settings:\n  {name}: not valid JSON") from exc
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = "".join(str(part) for part in error["loc"])
            name = f"IMAGES_{field.upper()}" if field else "settings"
            lines.append(f"{name}: {error['msg']}")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from exc
