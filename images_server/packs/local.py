"""`images-server pack`: a pack built in this process, from a file to a ZIP, without a server.

The same code as the worker's (analysis, recommendation, overrides, the render spine), on
services that keep nothing: the source in memory, no result cache. Limits and checks are the
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
from images_server.packs.analysis import analyse
from images_server.packs.build import build_pack
from images_server.packs.recommend import apply_overrides, recommend, safe_name
from images_server.settings import Settings
from images_server.wiring import in_memory


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
    settings: Settings,
    source: Path,
    output: Path,
    options: dict[str, Any],
    progress: Callable[[float], None],
) -> dict[str, object]:
    """Write the pack of `source` to `output` (atomically); its manifest."""
    services = in_memory(settings)
    data = source.read_bytes()
    check_image(services, data)
    analysis = analyse(data)
    pack_settings = apply_overrides(
        recommend(analysis, safe_name(source.name)), options, analysis.width
    )
    ref = pack_ref(hash_bytes(data)[:32], "source")
    services.storage.put(ref, data)
    built = build_pack(
        services, ref, source.name, hash_bytes(data), analysis, pack_settings, progress
    )
    temp = _temp_path(output)
    temp.write_bytes(built.zip)
    os.replace(temp, output)
    return built.manifest
