"""A pack's settings (`PackSettings`), the user's choices over them (`PackOptions`), and both
combined (`apply`).

`PackOptions` is a pydantic model of what `POST /packs`, the web UI and `images-server pack`
may choose: every setting, each optional. Values come as JSON or as form text (`"320,640"`,
`"true"`), so each field's validator takes either and says, on a bad value, what it must be;
`PackOptions.parse` raises that as `BadRequest` naming the field (`'widths': ...`), the first
bad one in the order they are applied, an unknown option first of all. Options are checked
before the source is analysed: no message depends on the image. `apply` then lays them over
the recommended settings, clamping widths to the source's (packs are never upscaled).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator

from images_server.errors import BadRequest

PackFormat = Literal["avif", "webp", "jpeg", "png"]
Role = Literal["hero", "content", "card", "thumbnail", "avatar"]
Loading = Literal["lazy", "eager"]
FetchPriority = Literal["high", "low", "auto"]

MAX_WIDTH = 3840  # wider than a 4K screen helps nobody
MAX_WIDTHS = 16
MIN_WIDTH = 16
MAX_TEXT = 500  # characters of `sizes` and `alt`
MAX_NAME = 64
FORMATS: tuple[PackFormat, ...] = ("avif", "webp", "jpeg", "png")
ROLES: tuple[Role, ...] = ("hero", "content", "card", "thumbnail", "avatar")
LOADINGS: tuple[Loading, ...] = ("lazy", "eager")
FETCH_PRIORITIES: tuple[FetchPriority, ...] = ("high", "low", "auto")
PHOTO_QUALITY: dict[PackFormat, int] = {"avif": 50, "webp": 75, "jpeg": 80, "png": 100}
SIZES: dict[Role, str] = {
    "hero": "100vw",
    "content": "(max-width: 800px) 100vw, 800px",
    "card": "(max-width: 600px) 100vw, 600px",
    "thumbnail": "200px",
    "avatar": "96px",
}
NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


@dataclass(frozen=True)
class PackSettings:
    name: str
    formats: tuple[PackFormat, ...]
    widths: tuple[int, ...]
    quality: dict[str, int]
    role: Role
    loading: Loading
    fetchpriority: FetchPriority
    sizes: str
    alt: str
    decorative: bool = False  # an explicit empty alt: the snippets say `alt=""`

    def to_json(self) -> dict[str, object]:
        return asdict(self)


OPTIONS = tuple(field.name for field in fields(PackSettings))
"""What a user may override: every setting."""


def role_loading(role: Role) -> tuple[Loading, FetchPriority]:
    """How a role's image loads: a hero at once and first, anything else lazily."""
    return ("eager", "high") if role == "hero" else ("lazy", "auto")


def _items(value: Any) -> Any:
    return value.split(",") if isinstance(value, str) else value


def _one_of(value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
    return str(value)


def _text(value: Any, longest: int) -> str:
    if not isinstance(value, str) or len(value) > longest or any(ord(c) < 32 for c in value):
        raise ValueError(f"text of at most {longest} characters, without control characters")
    return value


class PackOptions(BaseModel):
    """The user's choices, in the order `apply` lays them over the recommended settings."""

    model_config = ConfigDict(frozen=True)

    role: Role | None = None
    formats: tuple[PackFormat, ...] | None = None
    widths: tuple[int, ...] | None = None
    quality: dict[PackFormat, int] | None = None
    loading: Loading | None = None
    fetchpriority: FetchPriority | None = None
    sizes: str | None = None
    alt: str | None = None
    decorative: bool | None = None
    name: str | None = None

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> PackOptions:
        """The options of a request, or `BadRequest` naming the first bad (or unknown) one."""
        unknown = sorted(set(options) - set(OPTIONS))
        if unknown:
            raise _field(unknown[0], f"unknown option (known: {', '.join(sorted(OPTIONS))})")
        try:
            return cls.model_validate(dict(options))
        except ValidationError as error:
            first = error.errors()[0]
            reason = first.get("ctx", {}).get("error", first["msg"])
            raise _field(str(first["loc"][0]), str(reason)) from None

    @field_validator("role", mode="before")
    @classmethod
    def _role(cls, value: Any) -> str:
        return _one_of(value, ROLES)

    @field_validator("loading", mode="before")
    @classmethod
    def _loading(cls, value: Any) -> str:
        return _one_of(value, LOADINGS)

    @field_validator("fetchpriority", mode="before")
    @classmethod
    def _fetchpriority(cls, value: Any) -> str:
        return _one_of(value, FETCH_PRIORITIES)

    @field_validator("formats", mode="before")
    @classmethod
    def _formats(cls, value: Any) -> tuple[str, ...]:
        items = _items(value)
        if not isinstance(items, list | tuple) or not items:
            raise ValueError(f"a non-empty list of {', '.join(FORMATS)}")
        chosen: list[str] = []
        for item in items:
            text = str(item).strip().lower()
            text = "jpeg" if text == "jpg" else text
            if text not in FORMATS:
                raise ValueError(f"{item!r} is not one of {', '.join(FORMATS)}")
            if text not in chosen:
                chosen.append(text)
        return tuple(chosen)

    @field_validator("widths", mode="before")
    @classmethod
    def _widths(cls, value: Any) -> tuple[int, ...]:
        items = _items(value)
        if not isinstance(items, list | tuple) or not items or len(items) > MAX_WIDTHS:
            raise ValueError(f"a list of 1 to {MAX_WIDTHS} widths in pixels")
        widths: list[int] = []
        for item in items:
            try:
                width = int(str(item).strip())
            except ValueError:
                raise ValueError(f"{item!r} is not a whole number of pixels") from None
            if width < MIN_WIDTH:
                raise ValueError(f"{width} is below the minimum of {MIN_WIDTH}")
            widths.append(width)
        return tuple(widths)

    @field_validator("quality", mode="before")
    @classmethod
    def _quality(cls, value: Any) -> dict[str, int]:
        if not isinstance(value, dict):
            raise ValueError('an object of format to quality, e.g. {"avif": 50}')
        for fmt, quality in value.items():
            if fmt not in FORMATS:
                raise ValueError(f"{fmt!r} is not one of {', '.join(FORMATS)}")
            if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
                raise ValueError(f"{fmt} quality must be a whole number from 1 to 100")
        return value

    @field_validator("sizes", "alt", mode="before")
    @classmethod
    def _attribute(cls, value: Any) -> str:
        return _text(value, MAX_TEXT)

    @field_validator("decorative", mode="before")
    @classmethod
    def _decorative(cls, value: Any, info: ValidationInfo) -> bool:
        if isinstance(value, bool):
            flag = value
        else:
            text = value.strip().lower() if isinstance(value, str) else None
            if text not in _TRUE + _FALSE:
                raise ValueError("true or false")
            flag = text in _TRUE
        if flag and info.data.get("alt"):  # recommended settings never carry an alt
            raise ValueError("a decorative image has no alt text: leave 'alt' empty")
        return flag

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> str:
        name = _text(value, MAX_NAME)
        if not NAME.fullmatch(name):
            raise ValueError(
                "lowercase letters, digits and dashes, starting with a letter or digit"
            )
        return name


def _field(name: str, message: str) -> BadRequest:
    return BadRequest(f"'{name}': {message}")


def _quality(
    formats: tuple[PackFormat, ...], base: Mapping[str, int], chosen: Mapping[PackFormat, int]
) -> dict[str, int]:
    """Each format's quality: `chosen`, else `base`'s, else a photo's."""
    merged: dict[str, int] = {fmt: base.get(fmt, PHOTO_QUALITY[fmt]) for fmt in formats}
    return merged | {fmt: value for fmt, value in chosen.items() if fmt in merged}


def apply(recommended: PackSettings, options: PackOptions, source_width: int) -> PackSettings:
    """The recommended settings with the user's choices laid over them."""
    pack_settings = recommended
    if options.role is not None:
        loading, priority = role_loading(options.role)
        pack_settings = replace(
            pack_settings,
            role=options.role,
            loading=loading,
            fetchpriority=priority,
            sizes=SIZES[options.role],
        )
    if options.formats is not None:
        quality = _quality(options.formats, recommended.quality, {})
        pack_settings = replace(pack_settings, formats=options.formats, quality=quality)
    if options.widths is not None:
        widths = tuple(sorted({min(width, source_width) for width in options.widths}))
        pack_settings = replace(pack_settings, widths=widths)
    if options.quality is not None:
        quality = _quality(pack_settings.formats, pack_settings.quality, options.quality)
        pack_settings = replace(pack_settings, quality=quality)
    chosen = {
        name: getattr(options, name)
        for name in ("loading", "fetchpriority", "sizes", "alt", "decorative", "name")
        if getattr(options, name) is not None
    }
    return replace(pack_settings, **chosen)


BASELINE = PackSettings("image", ("jpeg",), (MIN_WIDTH,), {}, "content", "lazy", "auto", "", "")
"""Settings before any analysis: what each role implies is shown from them (the web UI)."""


def role_defaults() -> dict[str, PackSettings]:
    """Each role's loading, fetch priority and `sizes`, as `apply` sets them."""
    return {role: apply(BASELINE, PackOptions(role=role), MIN_WIDTH) for role in ROLES}
