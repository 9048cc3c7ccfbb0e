"""The pipeline parser: every op, and 400s that name the offending segment."""

from __future__ import annotations

from pathlib import Path

import pytest

from images_server.app import create_app
from images_server.errors import InvalidPipeline
from images_server.pipeline.ops import (
    Background,
    Blur,
    Crop,
    Dpr,
    Filter,
    Flip,
    Format,
    Pad,
    Quality,
    Resize,
    Rotate,
    Sharpen,
)
from images_server.pipeline.parse import KNOWN_OPS, PARSERS, parse_pipeline
from images_server.settings import Settings
from tests.images import quadrant_bytes


def test_empty_path_is_no_ops() -> None:
    assert parse_pipeline("", max_ops=10) == ()


def test_parses_each_op_in_order() -> None:
    ops = parse_pipeline(
        "resize/400x400/crop/n100x100/rotate/-90/flip/hv/format/webp/quality/80", max_ops=10
    )
    assert [type(op) for op in ops] == [Resize, Crop, Rotate, Flip, Format, Quality]
    assert ops[2] == Rotate(270.0)
    assert ops[3] == Flip(horizontal=True, vertical=True)
    assert ops[4] == Format("webp")
    assert ops[5] == Quality(80)


def test_jpg_is_an_alias_of_jpeg() -> None:
    assert parse_pipeline("format/jpg", max_ops=10) == (Format("jpeg"),)


@pytest.mark.parametrize(
    ("path", "named"),
    [
        ("resize", "'resize': missing argument"),
        ("bogus/1", "'bogus/1': unknown op 'bogus'"),
        ("resize/abc", "'resize/abc'"),
        ("resize/0x0", "'resize/0x0'"),
        ("resize/200x/crop/zz100x100", "'crop/zz100x100'"),
        ("rotate/ninety", "'rotate/ninety'"),
        ("rotate/nan", "'rotate/nan'"),
        ("flip/x", "'flip/x'"),
        ("format/bmp", "'format/bmp'"),
        ("quality/0", "'quality/0'"),
        ("quality/101", "'quality/101'"),
        ("quality/8.5", "'quality/8.5'"),
        ("resize//crop/c10x10", "'resize/': missing argument"),
    ],
)
def test_bad_segments_are_named(path: str, named: str) -> None:
    with pytest.raises(InvalidPipeline) as caught:
        parse_pipeline(path, max_ops=10)
    assert named in caught.value.message
    assert caught.value.status == 400


def test_pipeline_length_is_limited() -> None:
    assert len(parse_pipeline("flip/h/" * 2 + "flip/v", max_ops=3)) == 3
    with pytest.raises(InvalidPipeline, match="too many ops: 4"):
        parse_pipeline("flip/h/flip/h/flip/h/flip/h", max_ops=3)


def test_parses_the_rest_of_the_language() -> None:
    ops = parse_pipeline(
        "blur/2.5/sharpen/0.8/filter/sepia/background/FF000080/pad/300x200/dpr/1.5", max_ops=10
    )
    assert ops == (
        Blur(2.5),
        Sharpen(0.8),
        Filter("sepia"),
        Background((255, 0, 0, 128)),
        Pad(300, 200),
        Dpr(1.5),
    )
    assert parse_pipeline("background/00ff00", max_ops=1) == (Background((0, 255, 0, 255)),)
    assert parse_pipeline("format/auto", max_ops=1) == (Format("auto"),)


def test_presets_expand_in_place() -> None:
    presets = {"card": "resize/400x/format/webp", "full": ""}
    assert parse_pipeline("preset/card/flip/h", max_ops=3, presets=presets) == (
        *parse_pipeline("resize/400x/format/webp", max_ops=10),
        Flip(horizontal=True, vertical=False),
    )
    assert parse_pipeline("preset/full", max_ops=1, presets=presets) == ()
    thumb = parse_pipeline("preset/thumb", max_ops=1)
    assert thumb == parse_pipeline("resize/200x200^/crop/200x200", max_ops=10)


@pytest.mark.parametrize(
    ("path", "named"),
    [
        ("blur/0", "'blur/0': sigma must be a number from 0.1 to 50"),
        ("sharpen/51", "'sharpen/51'"),
        ("blur/-1", "'blur/-1'"),
        ("filter/vintage", "'filter/vintage': filter must be one of grayscale, sepia, invert"),
        ("background/red", "'background/red'"),
        ("background/12345", "'background/12345'"),
        ("pad/0x10", "'pad/0x10'"),
        ("pad/10", "'pad/10'"),
        ("dpr/5", "'dpr/5'"),
        ("dpr/0.5", "'dpr/0.5'"),
        ("preset/huge", "'preset/huge': unknown preset (known: full, medium, thumb)"),
        ("format/heic", "'format/heic'"),
    ],
)
def test_bad_arguments_of_the_new_ops_are_named(path: str, named: str) -> None:
    with pytest.raises(InvalidPipeline) as caught:
        parse_pipeline(path, max_ops=10)
    assert named in caught.value.message


def test_presets_do_not_nest() -> None:
    with pytest.raises(InvalidPipeline, match="unknown preset"):
        parse_pipeline("preset/outer", max_ops=10, presets={"outer": "preset/thumb"})


def _message(path: str) -> str:
    with pytest.raises(InvalidPipeline) as caught:
        parse_pipeline(path, max_ops=10)
    assert caught.value.status == 400
    return caught.value.message


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("nonsense", "nonsense"),
        ("resize/100x/nonsense", "nonsense"),
        ("nonsense/1", "nonsense"),
        ("blurr/2", "blurr"),
    ],
)
def test_an_unknown_op_is_called_unknown_with_or_without_an_argument(path: str, name: str) -> None:
    message = _message(path)
    assert f"unknown op '{name}'" in message
    assert "missing argument" not in message


def test_an_unknown_op_lists_every_known_op() -> None:
    known = _message("nonsense").split("(known: ", 1)[1].removesuffix(")").split(", ")
    assert known == list(KNOWN_OPS)
    assert set(known) == {*PARSERS, "preset"}
    assert {"blur", "sharpen", "filter", "background", "pad", "dpr"} <= set(known)


@pytest.mark.parametrize("op", KNOWN_OPS)
def test_a_known_op_without_its_argument_is_a_missing_argument(op: str) -> None:
    message = _message(f"resize/100x/{op}")
    assert message == f"'{op}': missing argument (every op takes one)"


def test_a_known_op_with_a_bad_argument_says_what_is_wrong_with_it() -> None:
    message = _message("resize/800x/blur/zz")
    assert message == "'blur/zz': sigma must be a number from 0.1 to 50"


def test_the_first_wrong_segment_is_named() -> None:
    assert _message("resize/abc/nonsense").startswith("'resize/abc': ")
    assert _message("resize/100x/200/crop/c10x10").startswith("'200/crop': unknown op '200'")


def test_an_empty_segment_is_named_as_such() -> None:
    assert "empty segment" in _message("resize/100x/")
    assert "empty segment" in _message("resize/100x//flip/h")


def test_the_image_route_answers_an_unknown_op_as_such(tmp_path: Path) -> None:
    client = create_app(Settings(data_dir=tmp_path, engine="vips")).test_client()
    upload = client.post("/upload", data=quadrant_bytes(48, 32, "png"), content_type="image/png")
    digest = upload.get_json()["hash"]
    for path, message in [
        ("nonsense", f"'nonsense': unknown op 'nonsense' (known: {', '.join(KNOWN_OPS)})"),
        ("resize/800x/blur/zz", "'blur/zz': sigma must be a number from 0.1 to 50"),
        ("blur", "'blur': missing argument (every op takes one)"),
    ]:
        response = client.get(f"/image/{digest}/{path}")
        assert response.status_code == 400, path
        assert response.get_json() == {
            "status": "error",
            "message": message,
            "code": "invalid_pipeline",
        }
