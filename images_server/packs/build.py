"""Build a pack: every width x format through the render spine, then `manifest.json`, the
snippets and the ZIP, all in memory, returned together so the caller publishes them at once.

Each output is a normal render (`resize/<w>x/format/<f>/quality/<q>`), so packs get the same
colour handling, metadata stripping, limits and deadline as any URL. Images go into the ZIP
stored (they are compressed already); text is deflated. `progress` is called after each file
of `outputs` with the fraction done; an exception it raises stops the build.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from images_server.formats.sniff import sniff
from images_server.hashing import ImageRef
from images_server.packs.analysis import Analysis
from images_server.packs.options import PackSettings
from images_server.packs.snippets import PackFile, all_snippets, file_name
from images_server.pipeline.parse import parse_pipeline
from images_server.pipeline.plan import Plan, make_plan
from images_server.render import render
from images_server.services import Services

PLACEHOLDER_WIDTH = 16
_FIXED_TIME = (2026, 1, 1, 0, 0, 0)  # ZIP entries carry no build time: same pack, same bytes


@dataclass(frozen=True)
class BuiltPack:
    zip: bytes
    manifest: dict[str, object]


def _plan(width: int, fmt: str, quality: int | None) -> Plan:
    pipeline = f"resize/{width}x/format/{fmt}"
    if quality is not None and fmt != "png":
        pipeline += f"/quality/{quality}"
    return make_plan(tuple(parse_pipeline(pipeline, max_ops=3, presets={})))


def _render_file(
    services: Services, source: ImageRef, pack_settings: PackSettings, width: int, fmt: str
) -> tuple[PackFile, bytes]:
    body = render(services, source, _plan(width, fmt, pack_settings.quality.get(fmt))).body
    info = sniff(body)
    pack_file = PackFile(
        file=file_name(pack_settings.name, info.width, fmt),
        width=info.width,
        height=info.height,
        format=fmt,
        bytes=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
    )
    return pack_file, body


def _data_url(services: Services, source: ImageRef) -> str:
    body = render(services, source, _plan(PLACEHOLDER_WIDTH, "png", None)).body
    return "data:image/png;base64," + base64.b64encode(body).decode("ascii")


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            text = name.endswith((".json", ".html", ".css", ".jsx"))
            entry = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED if text else zipfile.ZIP_STORED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, data)
    return buffer.getvalue()


def outputs(pack_settings: PackSettings) -> list[tuple[int, str]]:
    """Every (width, format) the pack renders, in order: one file each."""
    return [(width, fmt) for width in pack_settings.widths for fmt in pack_settings.formats]


def build_pack(
    services: Services,
    source: ImageRef,
    source_name: str,
    source_sha256: str,
    analysis: Analysis,
    pack_settings: PackSettings,
    progress: Callable[[float], None],
) -> BuiltPack:
    """Render, describe and zip one pack."""
    todo = outputs(pack_settings)
    entries: dict[str, bytes] = {}
    files: list[PackFile] = []
    for done, (width, fmt) in enumerate(todo, start=1):
        pack_file, body = _render_file(services, source, pack_settings, width, fmt)
        if pack_file.file not in entries:  # two asked widths may clamp to one
            files.append(pack_file)
            entries[pack_file.file] = body
        progress(done / (len(todo) + 1))
    data_url = _data_url(services, source)
    snippets = all_snippets(pack_settings, files, data_url)
    manifest: dict[str, object] = {
        "name": pack_settings.name,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": {
            "file": source_name,
            "width": analysis.width,
            "height": analysis.height,
            "format": analysis.format,
            "bytes": analysis.bytes,
            "sha256": source_sha256,
        },
        "analysis": analysis.to_json(),
        "settings": pack_settings.to_json(),
        "placeholder": {
            "blurhash": analysis.placeholder,
            "dominant_color": analysis.dominant_color,
            "data_url": data_url,
        },
        "files": [asdict(f) for f in files],
        "snippets": [f"snippets/{name}" for name in snippets],
    }
    entries["manifest.json"] = json.dumps(manifest, indent=2).encode() + b"\n"
    for name, text in snippets.items():
        entries[f"snippets/{name}"] = text.encode()
    return BuiltPack(zip=_zip(entries), manifest=manifest)
