"""Settings of the server itself, of where things are stored, and of the caches in front.

`ServerSettings`: what `images-server serve` binds and runs (gunicorn's workers and threads,
the preload, the client deadline, the job worker beside it). `StorageSettings`: the data dir,
the originals' storage, the result cache and the metadata database. `DeliverySettings`: the
URLs the API hands out and the HTTP caches (NGINX, a CDN) purged with the result cache.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ByteSize, Field, field_validator, model_validator

_URI_PREFIX = re.compile(r"/(?:(?!\.\.?/)[A-Za-z0-9._~-]+/)+")  # IMAGES_ACCEL_REDIRECT


class ServerSettings(BaseModel):
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
    recycle_growth_mb: int = Field(
        8,
        ge=0,
        le=4096,
        description="a web worker idle for a second whose private memory grew this many MB "
        "since it started (what a burst of renders and uploads leaves behind) is replaced by a "
        "fresh one, one worker at a time and never the only one (0: never)",
    )
    serve_worker: Literal["auto"] | bool = Field(
        "auto",
        description="whether `serve` starts a job worker beside gunicorn (`serve --worker` / "
        "`--no-worker` set it); `auto`: only on the embedded queue",
    )


class StorageSettings(BaseModel):
    data_dir: Path = Field(
        Path("./data"), description="root of everything the embedded defaults write"
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
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the metadata database (unset: SQLite in the data dir)"
    )

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
    def _s3_needs_bucket(self) -> StorageSettings:
        if self.storage == "s3" and not self.s3_bucket:
            raise ValueError("IMAGES_STORAGE=s3 needs IMAGES_S3_BUCKET")
        return self

    @model_validator(mode="after")
    def _s3_cache_needs_a_bucket(self) -> StorageSettings:
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
    def originals_dir(self) -> Path:
        return self.data_dir / "originals"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def database_url_or_default(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir}/images.db"


class DeliverySettings(BaseModel):
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

    @model_validator(mode="after")
    def _cloudflare_is_complete(self) -> DeliverySettings:
        parts = (self.cloudflare_zone_id, self.cloudflare_api_token)
        if any(parts) and not all(parts):
            raise ValueError("set both IMAGES_CLOUDFLARE_ZONE_ID and IMAGES_CLOUDFLARE_API_TOKEN")
        if all(parts) and not self.cdn_base_url:
            raise ValueError("purging Cloudflare by prefix needs IMAGES_CDN_BASE_URL")
        return self
