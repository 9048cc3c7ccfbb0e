"""Typed, frozen settings built from the `IMAGES_*` environment variables (docs/api.md §8).

`Settings()` reads the environment; `Settings(**values)` builds one for tests. A bad value is
reported at start by `load_settings`, as one line per offending variable, instead of a trace.
Every field has a one-line description: the README's settings table is checked against them.
The fields are grouped by concern, one class each, which `Settings` combines:

    serving.py    ServerSettings     host, port, gunicorn's workers and threads, the job worker
                  StorageSettings    data dir, originals (filesystem, S3), result cache, database
                  DeliverySettings   the URLs handed out, NGINX and CDN purging
    images.py     ImageSettings      engine, presets, watermark, client hints, maxbytes, source
                                     and output limits, the render gate
                  ExternalSettings   uploads and `/external` on or off, and what a fetch may do
    access.py     AccessSettings     signing and API keys, unsigned URLs' limits, admins, upload
                                     tokens and CORS, link lifetimes, quotas
                  RateLimitSettings  per-client limits and the proxies trusted to name clients
    jobs.py       JobSettings        the queue, eager variants, derivatives, faces, packs

`environment.py` reads secrets from files (`IMAGES_<NAME>_FILE`) and warns about `IMAGES_*`
variables that are no setting.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from images_server.pipeline.parse import parse_pipeline
from images_server.pipeline.presets import PRESET_MAX_OPS
from images_server.settings import environment
from images_server.settings.access import AccessSettings, RateLimitSettings
from images_server.settings.environment import PREFIX, SECRET_FIELDS, SettingsError
from images_server.settings.images import EngineName, ExternalSettings, ImageSettings, uses_hints
from images_server.settings.jobs import JobSettings
from images_server.settings.serving import DeliverySettings, ServerSettings, StorageSettings

__all__ = [
    "SECRET_FIELDS",
    "EngineName",
    "Settings",
    "SettingsError",
    "known_variables",
    "load_settings",
    "unknown_variables",
]


# Fields are collected from the last base first: the groups read top down as listed above.
class Settings(
    JobSettings,
    RateLimitSettings,
    AccessSettings,
    ExternalSettings,
    ImageSettings,
    DeliverySettings,
    StorageSettings,
    ServerSettings,
    BaseSettings,
):
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
        secret_files = environment.SecretFiles(settings_cls)
        return init_settings, secret_files, env_settings, dotenv_settings, file_secret_settings

    @model_validator(mode="after")
    def _eager_presets_need_no_hints(self) -> Settings:
        for name in self.eager_presets:
            if uses_hints(parse_pipeline(self.presets.get(name, ""), PRESET_MAX_OPS, {})):
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

    @property
    def queue_url_or_default(self) -> str:
        return self.queue_url or f"sqlite:///{self.data_dir}/queue.db"


def known_variables() -> frozenset[str]:
    """Every `IMAGES_*` variable something in this project reads."""
    return environment.known_variables(Settings.model_fields)


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """A warning for each `IMAGES_*` variable in `environ` that nothing reads."""
    return environment.unknown_variables(environ, known_variables())


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, turning validation errors into one clear message;
    warns about unknown `IMAGES_*` variables (`environment.warn_unknown_variables`)."""
    environment.warn_unknown_variables(known_variables())
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = "".join(str(part) for part in error["loc"])
            name = f"{PREFIX}{field.upper()}" if field else "settings"
            lines.append(f"{name}: {error['msg']}")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from exc
