"""What is known of an image's content, kept with its row: a focal point and its faces.

The focal point is set by its owner (`PUT /image/<hash>/focal`), the faces by the job worker
(`faces.detect`, once per original after upload); both are in 0..1 of the upright image.
`hints` turns a record into the `ImageHints` a plan's crops use (pipeline/focus.py) and
`metadata_fields` into what `/metadata` shows. Without a metadata database there are none.
`plan_for` gives every render of a stored image its facts, and the operator's mandatory face
redaction (`IMAGES_REDACT_FACES`) when it applies: one place for requests and eager variants.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.orm import Session

from images_server.catalog import ImageRecord
from images_server.db.models import Image
from images_server.errors import FacesUnavailable, ImageNotFound
from images_server.hashing import ImageRef
from images_server.pipeline.focus import ImageHints, Region
from images_server.pipeline.geometry import Point
from images_server.pipeline.plan import Plan
from images_server.services import Services


def hints(record: ImageRecord | None) -> ImageHints | None:
    """The record's focal point and faces (None without a record)."""
    if record is None:
        return None
    focal = None
    if record.focal_x is not None and record.focal_y is not None:
        focal = (record.focal_x, record.focal_y)
    faces = None if record.faces is None else tuple(_region(box) for box in record.faces)
    return ImageHints(focal, faces)


def must_redact(services: Services, record: ImageRecord | None) -> bool:
    """Whether `IMAGES_REDACT_FACES` covers this image (None: no row, as a public image)."""
    mode = services.settings.redact_faces
    return mode == "all" or (mode == "private" and record is not None and not record.public)


def plan_for(services: Services, record: ImageRecord | None, plan: Plan) -> Plan:
    """`plan` for the image `record` describes (None: no row, as for `/external` images):
    with its facts, and every face blurred last when `IMAGES_REDACT_FACES` covers it.

    403 `faces_unavailable` when faces must be redacted but are never detected for it (no
    row); while they are not detected yet, rendering answers 503 `faces_pending`.
    """
    if must_redact(services, record):
        plan = plan.with_face_redaction()
    if plan.redacts_faces and (record is None or not services.settings.faces):
        raise FacesUnavailable()
    return plan.with_hints(hints(record))


def _region(box: Sequence[float]) -> Region:
    x, y, w, h = (float(v) for v in box)
    return x, y, w, h


def metadata_fields(record: ImageRecord | None) -> dict[str, object]:
    """`focal` ({x, y} or null) and `faces` (a list of {x, y, width, height}, or null while
    not yet detected), for `/metadata`."""
    found = hints(record) or ImageHints()
    focal = None if found.focal is None else {"x": found.focal[0], "y": found.focal[1]}
    faces = None
    if found.faces is not None:
        faces = [dict(zip(("x", "y", "width", "height"), box, strict=True)) for box in found.faces]
    return {"focal": focal, "faces": faces}


def version(record: ImageRecord | None) -> str:
    """A short digest of the content facts, for ETags of what shows them ("" when none)."""
    found = hints(record)
    if found is None or (found.focal is None and found.faces is None):
        return ""
    return hashlib.sha256(found.key(True, True).encode()).hexdigest()[:8]


def set_focal(services: Services, ref: ImageRef, point: Point | None) -> None:
    """Store (or with None, clear) the image's focal point; 404 without a row."""
    _update(services, ref, focal_x=None if point is None else point[0],
            focal_y=None if point is None else point[1])  # fmt: skip


def set_faces(services: Services, ref: ImageRef, faces: Sequence[Region]) -> None:
    """Store the faces the detector found (an empty list: it found none)."""
    _update(services, ref, faces=[[round(v, 4) for v in box] for box in faces])


def _update(services: Services, ref: ImageRef, **values: object) -> None:
    with Session(services.require_database()) as session:
        done = session.execute(update(Image).where(Image.hash == ref.hash).values(**values))
        session.commit()
    if not done.rowcount:  # type: ignore[attr-defined]
        raise ImageNotFound()
