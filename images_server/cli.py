"""`images-server`: the command line (`serve`, `worker`, `pack`, `check`, `sign`, `migrate`,
`keys`, `import`, `export` (cli_bulk.py), and `--version`).

`serve` runs gunicorn with the app factory and `images_server/gunicorn_conf.py`, one worker
per core by default, and libvips and ImageMagick set to one thread each, as measured best on
this kind of load. `keys` creates, lists and revokes the API keys kept (as SHA-256 only) in
the metadata database. `check` only reads (`images_server.readiness`): it creates nothing.
"""

from __future__ import annotations

import json
import logging
import logging.config
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from images_server.cli_bulk import export_command, import_command
from images_server.db import migrate as db_migrate
from images_server.db import queries
from images_server.db.engine import make_engine, safe_url
from images_server.db.models import ApiKey
from images_server.errors import BadRequest, DatabaseUnavailable, ImagesError
from images_server.observability.logs import JsonFormatter, logging_config
from images_server.packs.options import FETCH_PRIORITIES, LOADINGS, OPTIONS, ROLES, PackOptions
from images_server.security import signing
from images_server.security.auth import DatabaseKeys, open_writes_warning
from images_server.settings import Settings, SettingsError, load_settings


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@contextmanager
def _database_errors(url: str) -> Iterator[None]:
    """A database that cannot be reached or used: one line naming the URL (password hidden)
    and what failed, instead of a trace."""
    try:
        yield
    except ArgumentError as exc:
        raise click.ClickException(f"IMAGES_DATABASE_URL is not a database URL: {exc}") from exc
    except DatabaseUnavailable as exc:
        raise click.ClickException(f"metadata database {safe_url(url)}: {exc.reason}") from exc


@contextmanager
def _json_lines(name: str) -> Iterator[None]:
    """Meanwhile, what logger `name` says at INFO and above goes to stderr as the server's
    JSON lines (the process's logging is otherwise left as it is)."""
    logger = logging.getLogger(name)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


@click.group()
@click.version_option(package_name="images-server", prog_name="images-server")
def main() -> None:
    """images-server: an on-the-fly image transform server."""


main.add_command(import_command)
main.add_command(export_command)


@main.command()
@click.option(
    "--worker/--no-worker",
    default=None,
    help="Start a job worker beside the web workers (default: only on the embedded queue).",
)
def serve(worker: bool | None) -> None:
    """Start gunicorn on IMAGES_HOST:IMAGES_PORT (and a job worker on embedded defaults)."""
    if worker is not None:  # a setting gunicorn's master reads (gunicorn_conf.py), as all are
        os.environ["IMAGES_SERVE_WORKER"] = "1" if worker else "0"
    settings = _settings()
    database = DatabaseKeys(settings.database_url_or_default)
    warning = open_writes_warning(settings, database)
    database.dispose()
    if warning:
        click.secho(f"\n{'!' * 72}\n{warning}\n{'!' * 72}\n", fg="red", bold=True, err=True)
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    os.environ.setdefault("VIPS_CONCURRENCY", "1")
    os.environ.setdefault("MAGICK_THREAD_LIMIT", "1")
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    from images_server.wiring import build_services

    build_services(settings).storage.check()  # a wrong data dir or bucket fails here, loudly
    # The embedded database is brought up to date here, in a process about to be replaced, so
    # no worker has to load Alembic for it (images_server/db/migrate.py); said as they say it.
    with _json_lines("images_server.db.migrate"):
        db_migrate.migrate_embedded(settings)
    # Workers, threads, timeouts, JSON logs and metrics: images_server/gunicorn_conf.py.
    args = [sys.executable, "-m", "gunicorn", "-c", "python:images_server.gunicorn_conf"]
    click.echo(f"images-server on http://{host}:{settings.port} ({settings.engine} engine)")
    os.execv(sys.executable, args)  # noqa: S606 - fixed argv, no shell


@main.command()
def worker() -> None:
    """Run background jobs (eager variants, packs, cleanup) from IMAGES_QUEUE_URL until stopped."""
    from images_server.jobs.worker import run_worker
    from images_server.memory import start_trimming, tune_malloc

    logging.config.dictConfig(logging_config())  # JSON lines on stderr, as the web process
    tune_malloc()  # what its renders free goes back to the system (images_server/memory.py)
    start_trimming()
    run_worker(_settings())


@main.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--widths", help="Comma-separated widths, e.g. 320,640,1280 (default: recommended).")
@click.option("--formats", help="Comma-separated formats: avif, webp, jpeg, png.")
@click.option("--quality", help="JSON object of quality per format, e.g. '{\"avif\": 50}'.")
@click.option("--role", type=click.Choice(ROLES), help="Sets loading, fetchpriority and sizes.")
@click.option("--loading", type=click.Choice(LOADINGS), help="The snippets' loading attribute.")
@click.option(
    "--fetchpriority", type=click.Choice(FETCH_PRIORITIES), help="The snippets' fetchpriority."
)
@click.option("--sizes", help="The snippets' sizes attribute, e.g. '(max-width: 800px) 100vw'.")
@click.option("--alt", help="The alt text the snippets carry.")
@click.option(
    "--decorative", is_flag=True, default=None, help='A decorative image: the snippets say alt="".'
)
@click.option("--name", help="File name stem of the pack's images (default: from SOURCE).")
def pack(source: Path, output: Path, **choices: str | bool | None) -> None:
    """Build a responsive image pack of SOURCE into a ZIP, locally (no server needed).

    The options are those of the web UI and `POST /packs`; each left out is recommended from
    the image.
    """
    from images_server.packs.local import build_local_pack, unwritable
    from images_server.wiring import in_memory

    options = _pack_options(choices)
    problem = unwritable(output)  # before any work: a render is long to lose
    if problem:
        raise click.ClickException(f"cannot write {output}: {problem}")
    settings = _settings()
    with click.progressbar(length=1000, label=f"pack of {source.name}", file=sys.stderr) as bar:
        done = [0]

        def progress(fraction: float) -> None:
            step = int(fraction * 1000) - done[0]
            if step > 0:
                bar.update(step)
                done[0] += step

        try:
            services = in_memory(settings)
            manifest = build_local_pack(services, source, output, options, progress)
        except BadRequest as exc:
            raise _bad_option(exc) from exc
        except ImagesError as exc:
            raise click.ClickException(exc.message) from exc
        except OSError as exc:
            raise click.ClickException(f"cannot write {output}: {exc.strerror}") from exc
        progress(1.0)
    files = manifest["files"]
    assert isinstance(files, list)
    names = [str(entry["file"]) for entry in files]
    width = max((len(name) for name in names), default=0)
    for entry, name in zip(files, names, strict=True):
        pixels = f"{entry['width']}x{entry['height']}"
        click.echo(f"  {name.ljust(width)}  {pixels:>11}  {human_size(int(entry['bytes'])):>9}")
    total = sum(int(entry["bytes"]) for entry in files)
    zipped = human_size(output.stat().st_size)
    click.echo(
        f"{output}: {len(files)} images ({human_size(total)}), manifest.json and snippets; "
        f"{zipped} zipped"
    )


def _pack_options(choices: dict[str, str | bool | None]) -> dict[str, object]:
    """The options given, as `POST /packs` takes them; a bad one names its option."""
    options: dict[str, object] = {k: v for k, v in choices.items() if v is not None}
    assert set(options) <= set(OPTIONS), "a pack option the server does not know"
    if "quality" in options:
        try:
            options["quality"] = json.loads(str(options["quality"]))
        except ValueError as exc:
            raise click.BadParameter(
                'a JSON object such as {"avif": 50}', param_hint="--quality"
            ) from exc
    try:
        PackOptions.parse(options)  # before the source is read
    except BadRequest as exc:
        raise _bad_option(exc) from exc
    return options


def _bad_option(error: BadRequest) -> click.ClickException:
    """`'widths': ...` from the packs code, as click says it of `--widths`."""
    field, separator, reason = error.message.partition(": ")
    name = field.strip("'")
    if separator and name in OPTIONS:
        return click.BadParameter(reason, param_hint=f"--{name}")
    return click.ClickException(error.message)


def human_size(count: int) -> str:
    """Bytes for a reader: `812 B`, `41.2 kB`, `5.7 MB` (powers of 1000, as file managers)."""
    if count < 1000:
        return f"{count} B"
    # Each bound is where one decimal would round up to 1000.0 of the unit.
    if count < 999_950:
        return f"{count / 1e3:.1f} kB"
    if count < 999_950_000:
        return f"{count / 1e6:.1f} MB"
    return f"{count / 1e9:.1f} GB"


@main.command()
def check() -> None:
    """Check the settings, and that storage, cache, database, queue and job workers are ready.

    Only reads: a missing data dir, database or queue file is reported, never created.
    """
    from images_server.engines import build_engine
    from images_server.readiness import check_readiness

    settings = _settings()
    engine = build_engine(settings.engine)
    readiness = check_readiness(settings)
    lines = "\n".join(f"  {item.line()}" for item in readiness.checks)
    if not readiness.ready:
        down = ", ".join(item.name for item in readiness.checks if not item.ready)
        raise click.ClickException(f"not ready: {down}\n{lines}")
    click.echo(
        f"ok: engine {engine.version}; storage, cache, database, queue, workers and rate limit "
        f"ready ({readiness.waiting} jobs waiting)\n{lines}"
    )


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
    url = _settings().database_url_or_default
    with _database_errors(url):
        db_migrate.upgrade(url)
    click.echo(f"ok: database schema of {safe_url(url)} up to date")


_HASH_SHOWN = 12  # hex digits of a key's SHA-256 that `keys list` shows to tell keys apart
_USER_MAX = 255  # the length of `api_keys.user`


@contextmanager
def _key_session() -> Iterator[Session]:
    """A session on the metadata database, its schema brought up to date first; commits."""
    url = _settings().database_url_or_default
    with _database_errors(url):
        db_migrate.upgrade(url)
        engine = make_engine(url)
        try:
            with Session(engine) as session, session.begin():
                yield session
        finally:
            engine.dispose()


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%SZ") if moment else "-"


def _key_cells(row: ApiKey) -> tuple[str, str, str, str, str]:
    created, revoked = _when(row.created_at), _when(row.revoked_at)
    return str(row.id), row.user, created, revoked, row.key_hash[:_HASH_SHOWN]


@main.group()
def keys() -> None:
    """Create, list and revoke the API keys stored in the metadata database."""


@keys.command("create")
@click.option("--user", required=True, help="The user the key acts as (the owner of its uploads).")
def create_key(user: str) -> None:
    """Print a new key for --user, once.

    Only its SHA-256 is stored; the key goes to stdout and the notice to stderr, so
    `KEY=$(images-server keys create --user alice)` works.
    """
    user = user.strip()
    if not user or len(user) > _USER_MAX:
        raise click.BadParameter(f"1 to {_USER_MAX} characters", param_hint="--user")
    with _key_session() as session:
        row, key = queries.create_api_key(session, user)
        key_id = row.id
    click.echo(key)
    click.echo(
        f"Created API key {key_id} for {user}. Store it now: it will not be shown again "
        "(only its SHA-256 is kept). Send it as `Authorization: Bearer <key>`.",
        err=True,
    )


@keys.command("list")
def list_keys() -> None:
    """List keys: id, user, created, revoked, hash prefix.

    Neither a key nor its full hash is ever shown.
    """
    with _key_session() as session:
        lines = [_key_cells(row) for row in queries.list_api_keys(session)]
    if not lines:
        click.echo("no API keys (create one with `images-server keys create --user NAME`)")
        return
    header = ("ID", "USER", "CREATED", "REVOKED", "HASH")
    widths = [max(len(line[i]) for line in (header, *lines)) for i in range(len(header))]
    for line in (header, *lines):
        cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        click.echo("  ".join(cells).rstrip())


@keys.command("revoke")
@click.argument("key_id")
def revoke_key(key_id: str) -> None:
    """Revoke a key by id (or by hash prefix).

    KEY_ID is the id `keys list` shows, or 6+ leading hex digits of its hash.
    """
    with _key_session() as session:
        found = queries.find_api_keys(session, key_id)
        if not found:
            raise click.ClickException(f"no API key with id or hash prefix {key_id!r}")
        if len(found) > 1:
            ids = ", ".join(str(row.id) for row in found)
            raise click.ClickException(f"{key_id!r} matches several keys ({ids}): use the id")
        row = found[0]
        if queries.revoke_api_key_row(session, row):
            click.echo(f"revoked API key {row.id} ({row.user})")
        else:
            click.echo(f"API key {row.id} ({row.user}) was already revoked")


if __name__ == "__main__":  # `python -m images_server.cli`, as gunicorn_conf starts the worker
    main()
