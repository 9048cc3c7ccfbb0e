"""Crops placed from focal points and faces (pipeline/focus.py), and their cache keys."""

from __future__ import annotations

import pytest

from images_server.errors import InvalidPipeline
from images_server.pipeline.focus import ImageHints
from images_server.pipeline.geometry import Box
from images_server.pipeline.parse import parse_pipeline
from images_server.pipeline.plan import make_plan
from images_server.pipeline.steps import CropTo, resolve


def _crop(path: str, hints: ImageHints | None, size: tuple[int, int] = (1000, 500)) -> CropTo:
    steps = resolve(make_plan(parse_pipeline(path, 10)).ops, *size, 10**8, hints=hints).steps
    crop = steps[-1]
    assert isinstance(crop, CropTo)
    return crop


def test_a_url_focal_point_is_centred_as_far_as_the_edges_allow() -> None:
    assert _crop("crop/focal:0.5,0.5:200x100", None).box == Box(400, 200, 200, 100)
    assert _crop("crop/focal:0.3,0.6:200x100", None).box == Box(200, 250, 200, 100)
    assert _crop("crop/focal:1,0:200x100", None).box == Box(800, 0, 200, 100)


def test_a_stored_point_places_focal_and_centred_crops_but_no_other_gravity() -> None:
    hints = ImageHints(focal=(0.1, 0.9))
    assert _crop("crop/focal200x100", hints).box == Box(0, 400, 200, 100)
    assert _crop("crop/200x100", hints).box == Box(0, 400, 200, 100)
    assert _crop("crop/n200x100", hints).box == Box(400, 0, 200, 100)
    assert _crop("crop/200x100", None).box == Box(400, 200, 200, 100)
    assert _crop("crop/focal200x100", None).box == Box(400, 200, 200, 100)


def test_the_point_follows_the_steps_before_the_crop() -> None:
    # 1000x500 -> 500x250; the point (0.8, 0.2) is at (400, 50)
    assert _crop("resize/500x/crop/focal:0.8,0.2:100x50", None).box == Box(350, 25, 100, 50)
    # mirrored: at (100, 50)
    assert _crop("resize/500x/flip/h/crop/focal:0.8,0.2:100x50", None).box == Box(50, 25, 100, 50)
    # a quarter turn clockwise of 1000x500: (800, 100) lands at (500 - 100, 800) = (400, 800)
    assert _crop("rotate/90/crop/focal:0.8,0.2:100x100", None).box == Box(350, 750, 100, 100)
    # a crop before it shifts it: (800, 100) - (500, 0)
    assert _crop("crop/e500x500/crop/focal:0.8,0.2:100x100", None).box == Box(250, 50, 100, 100)


def test_face_crops_centre_the_faces_and_go_smart_without_any() -> None:
    faces = ((0.1, 0.1, 0.1, 0.2), (0.3, 0.5, 0.1, 0.2))  # bounds x 100..400, y 50..350
    crop = _crop("crop/face400x400", ImageHints(faces=faces))
    assert crop == CropTo(Box(50, 0, 400, 400))
    assert _crop("crop/face400x400", ImageHints(faces=())).smart
    assert _crop("crop/face400x400", ImageHints()).smart  # not detected yet
    assert _crop("crop/face400x400", None).smart
    assert _crop("crop/smart100x100/crop/face50x50", ImageHints(faces=faces)).smart  # lost


def test_the_facts_a_plan_uses_are_in_its_key_and_only_those() -> None:
    def key(path: str, hints: ImageHints | None) -> str:
        return make_plan(parse_pipeline(path, 10)).with_hints(hints).variant("v")

    point = ImageHints(focal=(0.2, 0.3))
    faces = ImageHints(focal=(0.2, 0.3), faces=((0.1, 0.1, 0.1, 0.1),))
    assert key("resize/100x", point) == key("resize/100x", None)  # uses nothing
    assert key("crop/100x100", ImageHints()) == key("crop/100x100", None)  # no point: as before
    assert key("crop/100x100", point) != key("crop/100x100", None)
    assert key("crop/100x100", point) != key("crop/100x100", ImageHints(focal=(0.2, 0.4)))
    assert key("crop/face100x100", ImageHints()) != key("crop/face100x100", faces)  # pending
    assert key("crop/face100x100", faces) == key("crop/face100x100", ImageHints(faces=faces.faces))
    assert key("crop/focal:0.2,0.3:100x100", point) == key("crop/focal:0.2,0.3:100x100", None)


@pytest.mark.parametrize(
    "path",
    ["crop/focal:1.5,0:10x10", "crop/focal:0.5:10x10", "crop/focal:0.5,0.5:", "crop/face"],
)
def test_bad_focal_and_face_crops_name_their_segment(path: str) -> None:
    with pytest.raises(InvalidPipeline, match="crop/"):
        parse_pipeline(path, 10)


def test_canonical_forms() -> None:
    plan = make_plan(parse_pipeline("crop/focal:0.30,0.6000:10x10/crop/face5x5/crop/focal4x4", 10))
    assert plan.canonical() == "crop/focal:0.3,0.6:10x10/crop/face5x5/crop/focal4x4"
