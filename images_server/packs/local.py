"""`images-server pack`: a pack built in this process, from a file to a ZIP, without a server.

The same code as the worker's (`packs.service.run`), on services that keep nothing
(`wiring.in_memory`: the source in memory, no result cache). Limits and checks are the
server's (`IMAGES_*` settings apply), so a file the server would refuse is refused here too.
`unwritable(output)` tells, before any of that work, why the ZIP could not be written.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from images_server.hashing import hash_bytes, pack_ref
from images_server.ingest import check_image
from images_server.packs import service
from images_server.packs.store import PackJob
from images_server.services import Services


def _temp_path(output: Path) -> Path:
    return output.with_name(f".{output.name}.tmp")


def unwritable(output: Path) -> str | None:
    """Why the pack could not be written to `output`, or None when it can be.

    Tried for real (the temporary file the build writes is created and removed), since
    permission bits say nothing to root or about a read-only mount."""
    if output.is_dir():
        return "it is a directory"
    parent = output.parent
    if not parent.exists():
        return f"the directory {parent} does not exist"
    if not parent.is_dir():
        return f"{parent} is not a directory"
    temp = _temp_path(output)
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        if exc.errno == errno.EROFS:
            return f"{parent} is on a read-only file system"
        return f"{parent}: {exc.strerror or exc}"
    os.close(fd)
    temp.unlink()
    return None


def build_local_pack(
    services: Services,
    source: Path,
    output: Path,
    options: dict[str, Any],
    progress: Callable[[float], None],
) -> dict[str, object]:
    """Write the pack of `source` to `output` (atomically); its manifest."""
    data = source.read_bytes()
    check_image(services, data)
    digest = hash_bytes(data)
    job = PackJob(digest[:32], pack_ref(digest[:32], "source"), source.name, digest, options)
    services.storage.put(job.source, data)
    built = service.run(services, job, lambda chosen: None, progress)
    temp = _temp_path(output)
    temp.write_bytes(built.zip)
    os.replace(temp, output)
    return built.manifest
