"""`images-server`: the command line (`serve`, `check`, `sign`, `migrate`).

`serve` runs gunicorn with the app factory, one worker per core by default, and libvips
and ImageMagick set to one thread each, as measured best on this kind of load.
"""

from __future__ import annotations

import os
import sys
import time

import click

from images_server.db import migrate as db_migrate
from images_server.security import signing
from images_server.security.auth import open_writes_warning
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
    warning = open_writes_warning(settings)
    if warning:
        click.secho(f"\n{'!' * 72}\n{warning}\n{'!' * 72}\n", fg="red", bold=True, err=True)
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
    services.limiter.check_storage()
    click.echo(f"ok: engine {services.engine.version}, storage and cache reachable")


@main.command()
@click.argument("path")
@click.option(
    "--expires-in",
    type=click.IntRange(min=1),
    help="Seconds the URL stays valid (default: no expiry).",
)
@click.option("--base-url", default="", help="Prefix, e.g. https://images.example.com.")
def sign(path: str, expires_in: int | None, base_url: str) -> None:
    """Print PATH (which may carry a query) signed with the first IMAGES_SECRET_KEY."""
    if not path.startswith("/") or "#" in path:
        raise click.BadParameter("a URL path starting with /, e.g. /image/<hash>/resize/200x")
    try:
        key = signing.signing_keys(_settings())[0]
    except (OSError, ValueError) as exc:  # an unwritable data dir, an empty key file
        raise click.ClickException(f"no signing key: {exc}") from exc
    base, _, query = path.partition("?")
    expires = int(time.time()) + expires_in if expires_in else None
    click.echo(base_url.rstrip("/") + signing.sign(base, query, key, expires))


@main.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    settings = _settings()
    db_migrate.upgrade(settings.database_url_or_default)
    click.echo("ok: database schema up to date")
