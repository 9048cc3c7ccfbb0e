"""Focal crops on each engine: the box is placed in Python, so both give the same pixels
as the gravity crop with the same box."""

from __future__ import annotations

from tests.images import decode, quadrant_bytes
from tests.spine import Spine


def test_a_focal_crop_is_the_gravity_crop_with_its_box(spine: Spine) -> None:
    data = quadrant_bytes(200, 100, "png")
    focal = decode(spine(data, "resize/100x/crop/focal:0,1:20x20/format/png"))
    corner = decode(spine(data, "resize/100x/crop/sw20x20/format/png"))
    assert (focal.width, focal.height) == (20, 20)
    assert focal.write_to_memory() == corner.write_to_memory()


def test_a_face_crop_without_known_faces_is_the_smart_crop(spine: Spine) -> None:
    data = quadrant_bytes(200, 100, "png")
    face = spine(data, "crop/face50x50/format/png")
    assert face == spine(data, "crop/smart50x50/format/png")
