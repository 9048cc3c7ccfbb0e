"""The logs of a real `images-server serve` session read like a person would want them to:
one access line per request on stdout, a handful of start-up lines on stderr, and none of
the libraries' routine chatter (libvips per render, Alembic per process, huey per task).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import requests

from tests.servers import images_server

REQUESTS = 100
CHATTY = ("pyvips", "alembic", "huey")


def test_a_hundred_requests_make_a_hundred_access_lines(samples: Path, tmp_path: Path) -> None:
    with images_server(tmp_path / "data") as base:
        statuses = _a_session(base, samples)
        time.sleep(1)  # the eager-variant jobs the upload queued run in the embedded worker

    stdout = (tmp_path / "stdout.log").read_text().splitlines()
    access = [json.loads(line) for line in stdout if line.startswith("{")]
    sent = [entry for entry in access if entry["path"] != "/healthz"]
    assert [entry["status"] for entry in sent] == statuses
    assert len(sent) == REQUESTS

    lines = [json.loads(line) for line in (tmp_path / "stderr.log").read_text().splitlines()]
    chatter = [line for line in lines if line["logger"].split(".")[0] in CHATTY]
    assert chatter == []
    # gunicorn's start and ours; a web worker replaced once idle (IMAGES_RECYCLE_GROWTH_MB)
    # says so, its exit is logged as at a stop (3 lines) and gunicorn boots the next one
    replaced = sum("replaced: idle" in line["message"] for line in lines)
    assert len(lines) <= 15 + 5 * replaced, [line["message"] for line in lines]
    migrated = [line for line in lines if line["logger"] == "images_server.db.migrate"]
    assert len(migrated) == 1  # two web workers and the job worker: migrated once, said once


def _a_session(base: str, samples: Path) -> list[int]:
    """An upload, renders (cold and cached), 304s, bad pipelines and unknown images: 100
    requests in all; the statuses in order."""
    with (samples / "photo-1mp-1200x900.jpg").open("rb") as file:
        uploaded = requests.post(f"{base}/upload", files={"file": file}, timeout=30)
    statuses = [uploaded.status_code]
    image = uploaded.json()["url"]
    with requests.Session() as session:
        for index in range(REQUESTS - 1):
            kind = index % 4
            if kind == 0:
                response = session.get(f"{image}/resize/{100 + index}x", timeout=30)
            elif kind == 1:
                response = session.get(f"{image}/resize/100x", timeout=30)
            elif kind == 2:
                response = session.get(f"{image}/blur/zz", timeout=30)
            else:
                response = session.get(f"{base}/image/{'0' * 64}", timeout=30)
            statuses.append(response.status_code)
    assert set(statuses) == {201, 200, 400, 404}
    return statuses
