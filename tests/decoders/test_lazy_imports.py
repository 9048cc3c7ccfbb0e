"""The libraries only some inputs need are imported by the first such input, not by every
process: the web workers and the job worker stay small (README "Memory")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("cv2", "numpy", "pillow_heif", "imagecodecs", "PIL")


def _imported_after(code: str) -> list[str]:
    script = (
        f"import json, sys\n{code}\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    found: list[str] = json.loads(done.stdout.splitlines()[-1])
    return found


def test_the_app_and_the_job_worker_import_none_of_them() -> None:
    code = (
        "import images_server.app, images_server.render, images_server.jobs.tasks\n"
        "import images_server.decoders, images_server.faces"
    )
    assert _imported_after(code) == []


def _decode(path: Path) -> str:
    return (
        "from pathlib import Path\n"
        "from images_server import decoders\n"
        "from images_server.formats.sniff import sniff\n"
        f"data = Path({str(path)!r}).read_bytes()\n"
        "decoders.decodable(data, sniff(data))"
    )


def test_a_heic_imports_pillow_heif_and_a_jpeg_does_not(samples: Path) -> None:
    assert _imported_after(_decode(samples / "photo-1mp-1200x900.jpg")) == []
    assert "pillow_heif" in _imported_after(_decode(samples / "heic" / "rgb-10bit-128x128.heif"))
    assert "imagecodecs" in _imported_after(_decode(samples / "jxl" / "photo-1mp-1200x900-q75.jxl"))
