"""`images-server import` and `images-server export`: moving a library in or out (bulk.py).

`import` prints a progress bar on stderr, then a summary (stored, skipped, refused, with the
refusals grouped by reason) on stdout, and writes the map of source → hash when asked. Its
exit status is 0 when nothing was refused and 1 otherwise, so a script can tell; running it
again resumes it (what is stored is skipped by its hash).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from images_server import bulk
from images_server.catalog import Uploader
from images_server.db import migrate as db_migrate
from images_server.db.engine import safe_url
from images_server.errors import DatabaseUnavailable
from images_server.services import Services
from images_server.settings import SettingsError, load_settings


def _services() -> Services:
    """The services, the metadata database's schema brought up to date first (as `keys`)."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    with _database_errors(settings.database_url_or_default):
        db_migrate.upgrade(settings.database_url_or_default)
    from images_server.wiring import build_services  # the engines load libvips

    return build_services(settings)


@contextmanager
def _database_errors(url: str) -> Iterator[None]:
    try:
        yield
    except DatabaseUnavailable as exc:  # db.engine's mapping: the reason, never the password
        raise click.ClickException(f"metadata database {safe_url(url)}: {exc.reason}") from exc


def _summary(outcomes: list[bulk.Outcome]) -> str:
    counts = Counter(outcome.status for outcome in outcomes)
    lines = [f"stored {counts['stored']}, skipped {counts['skipped']}, refused {counts['refused']}"]
    reasons = Counter(outcome.reason for outcome in outcomes if outcome.status == "refused")
    lines += [f"  refused {n}: {reason}" for reason, n in reasons.most_common()]
    return "\n".join(lines)


@click.command("import")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--urls", is_flag=True, help="SOURCE is a text file of URLs, one a line.")
@click.option("--jobs", default=4, show_default=True, type=click.IntRange(1, 32),
              help="Sources imported at once.")  # fmt: skip
@click.option("--map", "map_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write source, status, hash and reason of each: .csv, else JSON.")  # fmt: skip
@click.option("--owner", help="The user the imported images belong to.")
@click.option(
    "--private", is_flag=True, help="Import them private (default: IMAGES_DEFAULT_PUBLIC)."
)
@click.option("--no-variants", is_flag=True, help="Queue no eager variants or derivatives.")
def import_command(
    source: Path, urls: bool, jobs: int, map_path: Path | None, owner: str | None,
    private: bool, no_variants: bool,
) -> None:  # fmt: skip
    """Store every file under SOURCE (a folder), or every URL listed in it (--urls), as
    uploads; what is already stored is skipped, so it can be run again to resume."""
    if urls == source.is_dir():
        raise click.UsageError("SOURCE must be a folder, or a file of URLs with --urls")
    services = _services()
    sources = bulk.urls_in(source, services) if urls else bulk.files_in(source, services)
    uploader = Uploader(user=owner, filename=None, public=False if private else None)
    database = services.settings.database_url_or_default
    bar = click.progressbar(length=len(sources), label="importing", file=sys.stderr)
    with bar, _database_errors(database):
        outcomes = bulk.import_all(
            services, sources, uploader, jobs, not no_variants, lambda _: bar.update(1)
        )
    if map_path is not None:
        bulk.write_map(outcomes, map_path)
    click.echo(_summary(outcomes))
    if any(outcome.status == "refused" for outcome in outcomes):
        sys.exit(1)


@click.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export_command(directory: Path) -> None:
    """Write every image's original as served (metadata removed) into DIRECTORY as
    <hash>.<ext>, and images.json with their rows (owner, visibility, size, safe EXIF...)."""
    services = _services()
    if services.database is None:
        raise click.ClickException("no metadata database: nothing lists the images")
    with _database_errors(services.settings.database_url_or_default):
        count = bulk.export_all(services, directory)
    click.echo(f"exported {count} images to {directory}")
