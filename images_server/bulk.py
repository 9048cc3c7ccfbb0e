"""Bulk import and export: a library of images moved in or out in one command.

`import_all` stores each source (a file, or a URL fetched through the SSRF-safe fetcher with
the `/external` limits) exactly as `POST /upload` would: the same limits, decode check,
metadata row and after-upload jobs, by content hash. Sources already stored are skipped by
their hash, so an interrupted import is resumed by running it again. A bounded pool of
threads does the work (decoding releases the GIL); each source ends `stored`, `skipped` or
`refused` with the reason an upload would have been given. `export_all` writes every image
as `GET /image/<hash>` serves it (metadata stripped) and `images.json` with their rows.
"""

from __future__ import annotations

import csv
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from images_server.catalog import Uploader, lookup
from images_server.db.models import Image
from images_server.errors import ImagesError, PayloadTooLarge
from images_server.formats import EXTENSIONS
from images_server.hashing import ImageRef, original_ref, parse_hash
from images_server.ingest import admit_upload
from images_server.pipeline.plan import Plan
from images_server.render import render
from images_server.security.fetch import fetch
from images_server.services import Services

Status = Literal["stored", "skipped", "refused"]
EXPORT_INDEX = "images.json"


@dataclass(frozen=True)
class Outcome:
    source: str  # the file's path or the URL
    status: Status
    hash: str | None = None
    reason: str = ""  # why it was skipped or refused


@dataclass(frozen=True)
class Source:
    name: str
    read: Callable[[], bytes]  # the bytes, or an ImagesError saying why not


def files_in(directory: Path, services: Services) -> list[Source]:
    """Every regular file under `directory`, in a stable order (hidden ones too)."""
    limit = services.settings.max_upload_bytes
    paths = sorted(p for p in directory.rglob("*") if p.is_file() and not p.is_symlink())
    return [Source(str(path), _file_reader(path, limit)) for path in paths]


def _file_reader(path: Path, limit: int) -> Callable[[], bytes]:
    def read() -> bytes:
        if path.stat().st_size > limit:
            raise PayloadTooLarge(f"larger than the upload limit of {limit} bytes")
        return path.read_bytes()

    return read


def urls_in(listing: Path, services: Services) -> list[Source]:
    """One URL a line; blank lines and `#` comments are left out."""
    lines = (line.strip() for line in listing.read_text(encoding="utf-8").splitlines())
    urls = [line for line in lines if line and not line.startswith("#")]
    return [Source(url, _url_reader(url, services)) for url in urls]


def _url_reader(url: str, services: Services) -> Callable[[], bytes]:
    return lambda: fetch(url, services.fetch_policy).body


class _Claims:
    """The hashes this run has taken on, so two sources with the same bytes store them once."""

    def __init__(self) -> None:
        self._taken: dict[str, str] = {}
        self._lock = threading.Lock()

    def claim(self, image: str, source: str) -> str | None:
        """None if `source` may store `image`; else the source that already has."""
        with self._lock:
            first = self._taken.get(image)
            if first is None:
                self._taken[image] = source
            return first


def import_one(
    services: Services, source: Source, uploader: Uploader, variants: bool, claims: _Claims
) -> Outcome:
    try:
        data = source.read()
        ref = original_ref(data)
        if (first := claims.claim(ref.hash, source.name)) is not None:
            return Outcome(source.name, "skipped", ref.hash, f"the same bytes as {first}")
        if services.storage.exists(ref) and lookup(services, ref) is not None:
            return Outcome(source.name, "skipped", ref.hash, "already stored")
        named = replace(uploader, filename=source.name.rstrip("/").rsplit("/", 1)[-1][:255])
        admitted = admit_upload(services, ref, data, named)
    except ImagesError as error:
        return Outcome(source.name, "refused", None, error.message)
    except OSError as error:
        return Outcome(source.name, "refused", None, error.strerror or str(error))
    if variants and services.jobs is not None:
        services.jobs.enqueue_after_upload(admitted.ref, admitted.info)
    return Outcome(source.name, "stored", ref.hash)


def import_all(
    services: Services,
    sources: list[Source],
    uploader: Uploader,
    jobs: int = 4,
    variants: bool = True,
    done: Callable[[Outcome], None] = lambda outcome: None,
) -> list[Outcome]:
    """Each source's outcome, in the sources' order; `done` is called as each one ends."""

    claims = _Claims()

    def one(source: Source) -> Outcome:
        outcome = import_one(services, source, uploader, variants, claims)
        done(outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="import") as pool:
        return list(pool.map(one, sources))


def write_map(outcomes: Iterable[Outcome], path: Path) -> None:
    """`path` as CSV (`.csv`) or JSON (anything else): source, status, hash, reason."""
    rows = [asdict(outcome) for outcome in outcomes]
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("w", encoding="utf-8", newline="") as out:
        if path.suffix.lower() == ".csv":
            writer = csv.DictWriter(out, fieldnames=["source", "status", "hash", "reason"])
            writer.writeheader()
            writer.writerows(rows)
        else:
            json.dump(rows, out, ensure_ascii=False, indent=1)
    os.replace(partial, path)


def _rows(services: Services) -> Iterator[Image]:
    with Session(services.require_database()) as session:
        yield from session.scalars(select(Image).order_by(Image.created_at, Image.hash))


def _row_json(row: Image, file: str | None) -> dict[str, object]:
    return {
        "hash": row.hash, "file": file, "format": row.format, "width": row.width,
        "height": row.height, "bytes": row.bytes, "has_alpha": row.has_alpha,
        "frames": row.frames, "orientation": row.orientation, "color_space": row.color_space,
        "public": row.public, "owner": row.owner, "exif": row.exif,
        "placeholder": row.placeholder, "dominant_color": row.dominant_color,
        "created_at": row.created_at.isoformat(),
    }  # fmt: skip


def export_all(
    services: Services, directory: Path, done: Callable[[str], None] = lambda name: None
) -> int:
    """Every recorded image into `directory` as served, and `images.json`; how many rows.

    A file already there with the right name is kept (an export can be resumed); a row whose
    original cannot be read is listed with `"file": null` and the `error`."""
    directory.mkdir(parents=True, exist_ok=True)
    index = []
    for row in _rows(services):
        ref = parse_hash(row.hash)
        file = f"{row.hash}.{EXTENSIONS.get(row.format, row.format)}"
        target = directory / file
        if not target.exists():
            try:
                _write(target, _served(services, ref))
            except ImagesError as error:  # a row whose bytes are gone: listed, not written
                index.append(_row_json(row, None) | {"error": error.message})
                continue
        index.append(_row_json(row, file))
        done(file)
    _write(directory / EXPORT_INDEX, json.dumps(index, ensure_ascii=False, indent=1).encode())
    return len(index)


def _served(services: Services, ref: ImageRef) -> bytes:
    return render(services, ref, Plan(())).body  # the original, its metadata removed


def _write(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)
