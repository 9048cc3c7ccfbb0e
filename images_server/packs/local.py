"""`images-server pack`: a pack built in this process, from a file to a ZIP, without a server.

The same code as the worker's (analysis, recommendation, overrides, the render spine), on
services that keep nothing: the source in memory, no result cache. Limits and checks are the
server's (`IMAGES_*` settings apply), so a file the server would refuse is refused here too.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from images_server.caches.null import NullCache
from images_server.engines import build_engine
from images_server.hashing import hash_bytes, pack_ref
from images_server.ingest import check_image
from images_server.packs.analysis import analyse
from images_server.packs.build import build_pack
from images_server.packs.recommend import apply_overrides, recommend, safe_name
from images_server.security.fetch import FetchPolicy
from images_server.services import Services
from images_server.settings import Settings
from images_server.storages.memory import MemoryStorage


def build_local_pack(
    settings: Settings,
    source: Path,
    output: Path,
    options: dict[str, Any],
    progress: Callable[[float], None],
) -> dict[str, object]:
    """Write the pack of `source` to `output` (atomically); its manifest."""
    services = Services(
        settings=settings,
        storage=MemoryStorage(),
        cache=NullCache(),
        engine=build_engine(settings.engine),
        fetch_policy=FetchPolicy.from_settings(settings),
    )
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
    temp = output.with_name(f".{output.name}.tmp")
    temp.write_bytes(built.zip)
    os.replace(temp, output)
    return built.manifest
