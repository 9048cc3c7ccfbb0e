"""Where settings come from besides the `IMAGES_*` variables, and which variables are known.

Secrets (`SECRET_FIELDS`) may also come from a file, as Docker and Compose secrets are mounted:
`IMAGES_<NAME>_FILE=/run/secrets/x` reads the value from that file, its trailing newline
stripped; setting both the variable and its `_FILE` is an error (`SecretFiles`). An
`IMAGES_*` variable that is no setting is warned about once per process tree, naming the
closest valid name (`warn_unknown_variables`): a typo would otherwise be silently ignored.
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import PydanticBaseSettingsSource

log = logging.getLogger("images_server.settings")

PREFIX = "IMAGES_"

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
        "IMAGES_SERVER_IMAGE",  # the image docker-compose.yml runs
        "IMAGES_TEST_ARTIFACTS",  # where the browser tests save screenshots
    }
)
"""`IMAGES_*` variables that are not settings but are read by other parts of the project."""

# Set in the environment once the unknown variables were reported, so the processes this one
# starts or becomes (gunicorn's master and workers, the embedded job worker) stay quiet.
_WARNED_MARK = "_IMAGES_SETTINGS_WARNED"


class SettingsError(Exception):
    """A setting has a value the server cannot start with."""


class SecretFiles(PydanticBaseSettingsSource):
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


def known_variables(fields: Iterable[str]) -> frozenset[str]:
    """Every `IMAGES_*` variable something in this project reads, given the settings' fields."""
    settings = {f"{PREFIX}{name.upper()}" for name in fields}
    files = {f"{PREFIX}{name.upper()}_FILE" for name in SECRET_FIELDS}
    return frozenset(settings | files | READ_ELSEWHERE)


def unknown_variables(environ: Mapping[str, str], known: frozenset[str]) -> list[str]:
    """A warning for each `IMAGES_*` variable in `environ` that is not in `known`."""
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


def warn_unknown_variables(known: frozenset[str]) -> None:
    """Log `unknown_variables` of this process's environment, once per process tree."""
    if os.environ.get(_WARNED_MARK):
        return
    os.environ[_WARNED_MARK] = "1"
    for warning in unknown_variables(os.environ, known):
        log.warning("%s", warning)
