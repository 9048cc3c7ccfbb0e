"""Settings of who may do what: signing keys and API keys, what unsigned URLs may ask for,
admins, upload tokens and the origins that may spend them, link lifetimes, quotas;
and how often a client may ask (rate limits, and which proxies say who the client is).
"""

from __future__ import annotations

import re
from typing import Any

from limits import parse_many
from pydantic import BaseModel, ByteSize, Field, field_validator, model_validator

from images_server.pipeline.parse import PARSERS
from images_server.settings.images import CommaList, split_commas

_DEFAULT_TTLS = {"signed_url_ttl": 3600, "share_ttl": 7 * 86400}


class AccessSettings(BaseModel):
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
    admin_users: CommaList = Field(
        ("admin",),
        description="users whose key may delete, sign, share and purge any image",
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
    max_link_ttl: int = Field(
        365 * 86400,
        ge=1,
        description="longest `expires_in` a signed URL or a share may ask for (else 400)",
    )
    signed_url_ttl: int = Field(
        _DEFAULT_TTLS["signed_url_ttl"],
        ge=1,
        description="seconds a URL from `/signed-url` stays valid unless asked",
    )
    share_ttl: int = Field(
        _DEFAULT_TTLS["share_ttl"],
        ge=1,
        description="seconds a `/share` grant lasts unless asked",
    )
    quota_bytes: ByteSize = Field(
        ByteSize(0), description="stored bytes one user's images may total (`0`: unlimited)"
    )
    quota_images: int = Field(0, ge=0, description="images one user may own (`0`: unlimited)")

    @field_validator(
        "secret_key",
        "api_keys",
        "admin_users",
        "cors_origins",
        "allowed_ops",
        "allowed_widths",
        mode="before",
    )
    @classmethod
    def _split_lists(cls, value: object) -> object:
        return split_commas(value)

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

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        for origin in origins:
            if origin != "*" and not re.fullmatch(r"https?://[^/\s]+", origin):
                raise ValueError(f"{origin!r}: an origin is scheme://host[:port], no path")
        return tuple(origin.lower() for origin in origins)

    @field_validator("api_keys")
    @classmethod
    def _check_api_keys(cls, entries: tuple[str, ...]) -> tuple[str, ...]:
        for entry in entries:
            user, _, key = entry.partition(":")
            if not user or len(key) < 16:
                raise ValueError("each entry is user:key, with a key of at least 16 characters")
        return entries

    @model_validator(mode="before")
    @classmethod
    def _default_ttls_fit_the_longest(cls, data: Any) -> Any:
        """A default lifetime left unset is shortened to `max_link_ttl` when that is less (so
        `IMAGES_MAX_LINK_TTL` alone lowers them all); a bad `max_link_ttl` says so itself."""
        if not isinstance(data, dict) or "max_link_ttl" not in data:
            return data
        try:
            longest = int(data["max_link_ttl"])
        except (TypeError, ValueError):
            return data
        fitted = {
            name: min(ttl, longest) for name, ttl in _DEFAULT_TTLS.items() if name not in data
        }
        return data | fitted if longest >= 1 else data

    @model_validator(mode="after")
    def _link_ttls_fit_the_longest(self) -> AccessSettings:
        """A default lifetime set longer than the longest allowed is an error."""
        for name in _DEFAULT_TTLS:
            if getattr(self, name) > self.max_link_ttl:
                raise ValueError(f"IMAGES_{name.upper()} is longer than IMAGES_MAX_LINK_TTL")
        return self

    @model_validator(mode="after")
    def _upload_token_ttl_fits(self) -> AccessSettings:
        if self.upload_token_ttl > self.upload_token_max_ttl:
            raise ValueError("IMAGES_UPLOAD_TOKEN_TTL is longer than IMAGES_UPLOAD_TOKEN_MAX_TTL")
        return self


class RateLimitSettings(BaseModel):
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
