"""`images-server`: the command line (`serve`, `check`).

`serve` runs gunicorn with the app factory, one worker per core by default, and libvips
and ImageMagick set to one thread each, as measured best on this kind of load.
"""

from __future__ import annotations

import os
import sys

import click

from images_server.services import build_services
from images_server.settings import Settings, SettingsError, load_settings


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def main() -> None:
    """images-server: an on-the-fly image transform server."""


@main.command()
def serve() -> None:
    """Start gunicorn on IMAGES_HOST:IMAGES_PORT."""
    settings = _settings()
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    os.environ.setdefault("VIPS_CONCURRENCY", "1")
    os.environ.setdefault("MAGICK_THREAD_LIMIT", "1")
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    build_services(settings).storage.check()  # a wrong data dir or bucket fails here, loudly
    args = [
        sys.executable, "-m", "gunicorn",
        "--bind", f"{host}:{settings.port}",
        "--workers", str(settings.workers),
        "--timeout", "60",
        "--access-logfile", "-",
        "images_server.app:create_app()",
    ]  # fmt: skip
    click.echo(f"images-server on http://{host}:{settings.port} ({settings.engine} engine)")
    os.execv(sys.executable, args)  # noqa: S606 - fixed argv, no shell


@main.command()
def check() -> None:
    """Check the settings and that storage and cache are reachable."""
    services = build_services(_settings())
    services.storage.check()
    services.cache.check()
    click.echo(f"ok: engine {services.engine.version}, storage and cache reachable")
