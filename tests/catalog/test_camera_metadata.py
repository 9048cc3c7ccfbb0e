"""`/metadata` of a real camera photo (docs/api.md §2, §5): served from the row, with no GPS
position and no serial numbers.

`catalog.stored_metadata` answers from the image's row when the row is complete, so the
metadata is still served after the stored bytes are removed behind the server's back.
"""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask

from images_server.db.models import Image
from images_server.hashing import parse_hash
from tests.catalog.support import ALICE, count, services

CAMERA = "camera-iphone-8mp-3264x2448.jpg"


def _keys(value: object) -> list[str]:
    """Every key of nested dicts, lower-cased."""
    if isinstance(value, dict):
        return [str(key).lower() for key in value] + [k for v in value.values() for k in _keys(v)]
    if isinstance(value, list):
        return [key for item in value for key in _keys(item)]
    return []


def test_camera_metadata_comes_from_the_row(keyed: Flask, samples: Path) -> None:
    data = (samples / CAMERA).read_bytes()
    client = keyed.test_client()
    # A raw body: werkzeug's test client spools a large multipart body to a temp file it
    # never closes (a ResourceWarning), which says nothing about the server.
    headers = {"Authorization": f"Bearer {ALICE}"}
    response = client.post("/upload", data=data, content_type="image/jpeg", headers=headers)
    assert response.status_code == 201
    digest = response.get_json()["hash"]
    assert count(keyed, Image, hash=digest, width=3264, height=2448) == 1
    before = client.get(f"/image/{digest}/metadata").get_json()
    assert services(keyed).storage.delete(parse_hash(digest))
    metadata = client.get(f"/image/{digest}/metadata")
    assert metadata.status_code == 200
    body = metadata.get_json()
    assert body == before
    assert (body["hash"], body["width"], body["height"]) == (digest, 3264, 2448)
    assert body["format"] == "jpeg"
    assert body["mime"] == "image/jpeg"
    assert body["bytes"] == len(data)
    assert body["exif"]  # the camera facts that are safe to show are there
    keys = _keys(body)
    assert not [key for key in keys if "gps" in key or "serial" in key], keys
    text = json.dumps(body).lower()
    for secret in ("gps", "serial", "40/1 26/1", "49.1", "29.11", "639.5", "212.87"):
        assert secret not in text
