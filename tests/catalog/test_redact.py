"""Face redaction over HTTP, on SQLite and PostgreSQL: `redact/faces` and the operator's
`IMAGES_REDACT_FACES`, before the worker has looked for faces (503, never the faces
unredacted) and after (`faces.detect`, the worker's own function)."""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvips
from flask import Flask
from pydantic import ValidationError

from images_server import content, faces
from images_server.errors import FacesUnavailable
from images_server.hashing import parse_hash
from images_server.pipeline.focus import Frame, face_boxes
from images_server.pipeline.parse import parse_pipeline
from images_server.pipeline.plan import make_plan
from images_server.settings import Settings
from tests.catalog.support import ALICE, KEYS, MakeApp, assert_error, bearer, services, upload
from tests.images import decode

FACE = (140, 44, 140, 147)  # the astronaut's face (175, 65, 100, 105), grown by a fifth


def _portrait(samples: Path, **options: object) -> bytes:
    image = pyvips.Image.new_from_file(str(samples / "faces-astronaut-512x512.png"))
    return bytes(image.jpegsave_buffer(Q=90, **options))  # small: werkzeug spools big ones


def _face_change(served: bytes, original: bytes) -> float:
    """How far the face's pixels moved from the original's, on average."""
    diff = (decode(served).cast("int") - decode(original).cast("int")).abs()
    return float(diff.crop(*FACE).avg())


def _pending(response: object) -> None:
    assert_error(response, 503, "faces_pending")  # type: ignore[arg-type]
    assert int(response.headers["Retry-After"]) > 0  # type: ignore[attr-defined]


def test_redact_faces_waits_for_the_worker_then_blurs_the_face(keyed: Flask, samples: Path) -> None:
    client = keyed.test_client()
    data = _portrait(samples)
    digest = upload(client, data, ALICE).get_json()["hash"]
    _pending(client.get(f"/image/{digest}/redact/faces"))
    assert faces.detect(services(keyed), parse_hash(digest)) == 1
    blurred = client.get(f"/image/{digest}/redact/faces/format/png")
    assert blurred.status_code == 200
    assert _face_change(blurred.data, data) > 10
    (face,) = client.get(f"/image/{digest}/metadata").get_json()["faces"]
    (box,) = face_boxes(Frame.of(512, 512), (tuple(face.values()),), (512, 512))
    region = f"{box.x},{box.y},{box.width},{box.height}"
    # the face's box, as a region: the same pixels
    assert blurred.data == client.get(f"/image/{digest}/redact/{region}/format/png").data


def test_private_images_are_redacted_whatever_the_url(make_app: MakeApp, samples: Path) -> None:
    app = make_app(api_keys=KEYS, redact_faces="private")
    client = app.test_client()
    private, public = _portrait(samples), _portrait(samples, interlace=True)
    hidden = upload(client, private, ALICE, public="false").get_json()["hash"]
    shown = upload(client, public, ALICE).get_json()["hash"]
    key = bearer(ALICE)
    _pending(client.get(f"/image/{hidden}", headers=key))
    _pending(client.get(f"/image/{hidden}/resize/300x", headers=key))
    for digest in (hidden, shown):
        faces.detect(services(app), parse_hash(digest))
    original = client.get(f"/image/{hidden}", headers=key)  # the original, as served
    assert original.status_code == 200
    assert original.mimetype == "image/jpeg"
    assert _face_change(original.data, private) > 10
    assert original.data == client.get(f"/image/{hidden}/redact/faces", headers=key).data
    resized = client.get(f"/image/{hidden}/resize/300x", headers=key).data
    assert resized == client.get(f"/image/{hidden}/resize/300x/redact/faces", headers=key).data
    assert _face_change(client.get(f"/image/{shown}").data, public) == 0  # public: as stored
    refused = client.post("/packs", json={"hash": hidden}, headers=key)  # packs do not redact
    assert_error(refused, 403, "faces_unavailable")


def test_all_images_are_redacted_and_never_detected_ones_refused(
    make_app: MakeApp, samples: Path
) -> None:
    app = make_app(redact_faces="all")
    client = app.test_client()
    data = _portrait(samples)
    digest = upload(client, data).get_json()["hash"]
    _pending(client.get(f"/image/{digest}"))
    faces.detect(services(app), parse_hash(digest))
    assert _face_change(client.get(f"/image/{digest}").data, data) > 10
    region = client.get(f"/image/{digest}/redact/0,0,10,10").data
    assert region == client.get(f"/image/{digest}/redact/0,0,10,10/redact/faces").data
    with pytest.raises(FacesUnavailable):  # no row: an /external image's faces are never found
        content.plan_for(services(app), None, make_plan(parse_pipeline("resize/10x", 10)))


def test_mandatory_redaction_needs_face_detection(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="IMAGES_FACES"):
        Settings(data_dir=tmp_path, redact_faces="private", faces=False)
