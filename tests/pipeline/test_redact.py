"""`redact/…`: parsing and canonical forms, the boxes resolve places (faces followed through
the steps, regions clipped), how strongly, and what is refused."""

from __future__ import annotations

import pytest

from images_server.errors import FacesPending, InvalidPipeline
from images_server.pipeline.focus import ImageHints
from images_server.pipeline.geometry import Box
from images_server.pipeline.parse import parse_pipeline
from images_server.pipeline.plan import Plan, make_plan
from images_server.pipeline.steps import RedactBoxes, Step, resolve

FACE = ImageHints(faces=((0.1, 0.2, 0.1, 0.2),))  # x 100..200, y 100..200 of 1000x500


def _plan(path: str) -> Plan:
    return make_plan(parse_pipeline(path, 10))


def _steps(path: str, hints: ImageHints | None = FACE) -> tuple[Step, ...]:
    return resolve(_plan(path).ops, 1000, 500, 10**8, hints=hints).steps


def _redacted(path: str, hints: ImageHints | None = FACE) -> RedactBoxes:
    step = _steps(path, hints)[-1]
    assert isinstance(step, RedactBoxes)
    return step


def test_canonical_forms_normalise_for_the_key() -> None:
    plan = _plan("redact/faces,blur/redact/faces,pixelate/redact/010,0,5,0007,blur")
    assert plan.canonical() == "redact/faces/redact/faces,pixelate/redact/10,0,5,7"
    assert _plan("redact/faces").variant("v") == _plan("redact/faces,blur").variant("v")
    assert _plan("redact/faces").variant("v") != _plan("redact/faces,pixelate").variant("v")


@pytest.mark.parametrize(
    "arg",
    ["", "face", "faces,mosaic", "pixelate", "1,2,3", "1,2,3,0", "1,2,3,4,5", "-1,0,3,4",
     "65536,0,1,1", "1,1,1,65536", "faces,pixelate,blur", "1,2,3,4,", "\u0661,2,3,4"],
)  # fmt: skip
def test_bad_arguments_are_400_naming_the_segment(arg: str) -> None:
    with pytest.raises(InvalidPipeline, match=f"'redact/{arg}'" if arg else "redact"):
        parse_pipeline(f"resize/10x/redact/{arg}", 10)


def test_dpr_scales_a_region_and_refuses_one_past_the_limits() -> None:
    assert _plan("dpr/2/redact/10,20,30,40").canonical() == "redact/20,40,60,80"
    with pytest.raises(InvalidPipeline, match="at dpr 2"):
        _plan("dpr/2/redact/40000,0,10,10")


def test_a_face_box_grows_by_a_fifth_each_side_and_follows_the_steps() -> None:
    assert _redacted("redact/faces").boxes == (Box(80, 80, 140, 140),)
    # halved, then mirrored left to right in a 500 px wide image: x 50..100 -> 400..450
    assert _redacted("resize/500x/flip/h/redact/faces").boxes == (Box(390, 40, 70, 70),)
    # a crop shifts it, and clips it to the image
    assert _redacted("crop/500x500+150+0/redact/faces").boxes == (Box(0, 80, 70, 140),)


def test_a_region_is_in_pixels_of_the_image_at_that_point_clipped_to_it() -> None:
    assert _redacted("resize/500x/redact/450,10,100,20,pixelate") == RedactBoxes(
        (Box(450, 10, 50, 20),), pixelate=True
    )
    with pytest.raises(InvalidPipeline, match=r"'redact/500,0,10,10': .*outside"):
        _steps("resize/500x/redact/500,0,10,10")


def test_strength_follows_the_longer_side() -> None:
    assert RedactBoxes.sigma(Box(0, 0, 80, 40)) == 10
    assert RedactBoxes.sigma(Box(0, 0, 2000, 40)) == 50  # at most blur/50
    assert RedactBoxes.cell(Box(0, 0, 80, 40)) == 10
    assert RedactBoxes.cell(Box(0, 0, 10, 10)) == 4  # at least 4 px


def test_faces_not_detected_yet_are_never_skipped() -> None:
    with pytest.raises(FacesPending) as caught:
        _steps("redact/faces", ImageHints())
    assert caught.value.status == 503
    assert caught.value.retry_after > 0
    with pytest.raises(FacesPending):
        _steps("redact/faces", None)
    assert _steps("redact/faces", ImageHints(faces=())) == ()  # none found: nothing to do
    assert _steps("redact/faces", ImageHints(faces=((0.95, 0.95, 0.5, 0.5),)))  # partly in


def test_after_a_smart_crop_faces_cannot_be_placed_so_it_is_400() -> None:
    with pytest.raises(InvalidPipeline, match="'redact/faces': after a smart crop"):
        _steps("crop/smart200x200/redact/faces")
    assert _steps("crop/smart200x200/redact/faces", ImageHints(faces=())) != ()  # the crop


def test_the_faces_are_in_the_key_and_the_mandatory_redaction_is_appended_once() -> None:
    plan = _plan("resize/100x")
    forced = plan.with_face_redaction()
    assert forced.canonical() == "resize/100x/redact/faces"
    assert forced.with_face_redaction() == forced
    pixelated = _plan("redact/faces,pixelate")
    assert pixelated.with_face_redaction() == pixelated  # already redacted last
    assert _plan("redact/faces/rotate/90").with_face_redaction().canonical() == (
        "redact/faces/rotate/90/redact/faces"
    )
    assert forced.with_hints(FACE).variant("v") != forced.with_hints(ImageHints()).variant("v")
    assert forced.with_hints(FACE).hints == ImageHints(faces=FACE.faces)
