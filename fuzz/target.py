"""The upload fuzz target: one input is the bytes of one upload, checked twice.

`check_image` (the admit path: magic bytes, header limits, full decode) must either return
or raise an `ImagesError` with a 4xx status; `POST /upload` through the Flask test client
must answer the same status (201 when `check_image` accepted the bytes, 400 for an empty
body), in the JSON error shape of docs/api.md §2, and leave nothing in storage for a refused
upload; an accepted upload must render (a small resize) on both engines. Anything else,
including any other exception, is a finding: it is written to the findings directory (the
input and what went wrong) and counted, and fuzzing goes on.
"""

from __future__ import annotations

import hashlib
import shutil
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from flask.testing import FlaskClient

from images_server.app import create_app
from images_server.errors import ImagesError
from images_server.hashing import original_ref
from images_server.ingest import check_image
from images_server.services import Services
from images_server.settings import Settings

# Small limits keep each execution fast; the paths they exercise are the same.
FUZZ_LIMITS: dict[str, object] = {
    "max_upload_bytes": 1_000_000,
    "max_pixels": 4_000_000,
    "max_side": 8192,
    "max_frames": 50,
    "max_animation_pixels": 20_000_000,
    # well under libFuzzer's 10 s "slow unit": ImageMagick takes 10 s to enlarge a 1x2049 GIF
    # to 16x32784 (libvips 0.09 s), which the server answers with a timely 503 instead
    "render_timeout": 3.0,
    "cache": "none",
    "svg_enabled": True,  # so that the SVG parser and sanitizer are fuzzed too
    "rate_limit_uploads": "0",
    "rate_limit_external": "0",
    "rate_limit_renders": "0",
}
ERROR_KEYS = {"status", "message", "code"}
ENGINES = ("vips", "wand")
PROBE = "resize/16x"  # what an accepted upload must render on every engine
TEMP_PREFIX = ".tmp-"
SWEEP_EVERY = 500  # executions between checks of the data dir for stray files


def fuzz_settings(data_dir: Path, engine: str) -> Settings:
    return Settings(data_dir=data_dir, engine=engine, **FUZZ_LIMITS)  # type: ignore[arg-type]


class Finding(Exception):
    """The server did something no input may make it do."""


@dataclass
class UploadTarget:
    """An app on a temp data dir, and the checks one input goes through."""

    findings: Path
    data_dir: Path
    executions: int = 0
    failures: int = 0

    def __post_init__(self) -> None:
        self.findings.mkdir(parents=True, exist_ok=True)
        apps = {engine: create_app(fuzz_settings(self.data_dir, engine)) for engine in ENGINES}
        self.services = cast(Services, apps["vips"].extensions["images"])
        self.client: FlaskClient = apps["vips"].test_client()
        self.renderers = {engine: app.test_client() for engine, app in apps.items()}

    def __call__(self, data: bytes) -> None:
        """Check one input; record a finding instead of raising, so fuzzing goes on."""
        self.executions += 1
        try:
            self.check(data)
            if self.executions % SWEEP_EVERY == 0:
                self.sweep()
        except Exception:  # every failure is recorded, whatever its type
            self.record(data, traceback.format_exc())

    def check(self, data: bytes) -> None:
        expected = self.admit_status(data)
        response = self.client.post("/upload", data=data, content_type="application/octet-stream")
        status = response.status_code
        if status != expected:
            raise Finding(f"check_image says {expected}, POST /upload answered {status}")
        if status == 201:
            digest = response.get_json()["hash"]
            try:
                self.check_renders(digest)
            finally:
                deleted = self.client.delete(f"/image/{digest}")  # keep the data dir small
            if deleted.status_code != 200:
                raise Finding(f"DELETE of an accepted upload answered {deleted.status_code}")
            return
        body = response.get_json(silent=True)
        if not isinstance(body, dict) or set(body) < ERROR_KEYS or body["status"] != "error":
            raise Finding(f"error {status} is not the JSON error shape: {response.data[:200]!r}")
        if data and self.services.storage.exists(original_ref(data)):
            raise Finding(f"a refused upload ({status}) was stored")

    def check_renders(self, digest: str) -> None:
        for engine, client in self.renderers.items():
            rendered = client.get(f"/image/{digest}/{PROBE}")
            if _legitimately_refused(rendered.status_code, rendered.get_json(silent=True)):
                continue
            if rendered.status_code != 200:
                answer = f"{rendered.status_code} {rendered.data[:200]!r}"
                raise Finding(f"accepted, but {PROBE} on {engine} answered {answer}")

    def admit_status(self, data: bytes) -> int:
        """The status the admit path gives `data`: 201, or its error's 4xx."""
        if not data:
            return 400  # the upload view refuses an empty body before admitting anything
        try:
            check_image(self.services, data)
        except ImagesError as exc:
            if not 400 <= exc.status < 500:
                raise Finding(f"check_image raised {type(exc).__name__} ({exc.status})") from exc
            return exc.status
        return 201

    def sweep(self) -> None:
        stray = [path for path in self.data_dir.rglob(f"{TEMP_PREFIX}*") if path.is_file()]
        if stray:
            raise Finding(f"temp files left in the data dir: {stray[:5]}")
        stored = [path for path in (self.data_dir / "originals").rglob("*") if path.is_file()]
        if stored:
            raise Finding(f"files left in storage after DELETE: {stored[:5]}")

    def record(self, data: bytes, what: str) -> None:
        self.failures += 1
        digest = hashlib.sha256(data).hexdigest()[:16]
        (self.findings / f"{digest}.bin").write_bytes(data)
        (self.findings / f"{digest}.txt").write_text(what)

    def close(self) -> None:
        shutil.rmtree(self.data_dir, ignore_errors=True)


def _legitimately_refused(status: int, body: object) -> bool:
    """The probe's output is over a limit (a 1x4097 GIF made 16 wide is 16x65552, more than
    GIF can hold: 400), or its render ran past the render time limit (503): correct answers."""
    code = body.get("code") if isinstance(body, dict) else None
    return (status, code) in {(400, "output_too_large"), (503, "render_timeout")}
