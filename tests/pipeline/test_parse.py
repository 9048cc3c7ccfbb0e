"""The pipeline parser: every op, and 400s that name the offending segment."""

from __future__ import annotations

import pytest

from images_server.errors import InvalidPipeline
from images_server.pipeline.ops import Crop, Flip, Format, Quality, Resize, Rotate
from images_server.pipeline.parse import parse_pipeline


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
