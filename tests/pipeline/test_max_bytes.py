"""`maxbytes/N`: parsing within its bounds, 400s naming the segment, the combinations it
refuses (`quality/auto`, lossless formats), and normalisation into the cache key."""

from __future__ import annotations

import pytest

from images_server.errors import InvalidPipeline
from images_server.pipeline.ops import MaxBytes
from images_server.pipeline.parse import MAX_BYTES_RANGE, parse_pipeline
from images_server.pipeline.plan import Plan, make_plan


def plan(path: str) -> Plan:
    return make_plan(parse_pipeline(path, max_ops=20))


@pytest.mark.parametrize(
    ("arg", "limit"),
    [("100", 100), ("20000", 20_000), ("020000", 20_000), ("20000000", 20_000_000)],
)
def test_budgets_in_range_parse(arg: str, limit: int) -> None:
    assert parse_pipeline(f"maxbytes/{arg}", max_ops=5) == (MaxBytes(limit),)
    assert MAX_BYTES_RANGE == (100, 20_000_000)


@pytest.mark.parametrize(
    "arg", ["99", "0", "20000001", "1000000000", "-500", "5e4", "5000.0", "20kB", "auto", " 500"]
)
def test_a_bad_budget_names_the_segment_and_the_range(arg: str) -> None:
    with pytest.raises(InvalidPipeline) as raised:
        parse_pipeline(f"resize/10x/maxbytes/{arg}", max_ops=5)
    assert raised.value.message == (
        f"'maxbytes/{arg}': maxbytes must be a whole number of bytes from 100 to 20000000"
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("maxbytes/020000", "maxbytes/20000"),
        ("maxbytes/5000/resize/100x", "resize/100x/maxbytes/5000"),
        ("maxbytes/9000/format/webp/maxbytes/5000", "format/webp/maxbytes/5000"),
        ("quality/auto/quality/70/maxbytes/5000", "maxbytes/5000/quality/70"),
        (
            "format/webp/quality/jpeg:80,webp:60/maxbytes/5000",
            "format/webp/quality/60/maxbytes/5000",
        ),
    ],
)
def test_equivalent_budgets_share_a_key(first: str, second: str) -> None:
    assert plan(first) == plan(second)
    assert plan(first).variant("e1") == plan(second).variant("e1")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("maxbytes/5000", ""),
        ("maxbytes/5000", "maxbytes/5001"),
        ("maxbytes/5000", "maxbytes/5000/quality/60"),
        ("format/webp/maxbytes/5000", "format/webp"),
    ],
)
def test_different_budgets_differ(first: str, second: str) -> None:
    assert plan(first).variant("e1") != plan(second).variant("e1")


def test_the_budget_is_an_output_setting_in_the_key() -> None:
    budget = plan("maxbytes/8000/resize/100x/quality/70")
    assert budget.max_bytes == 8000
    assert budget.canonical() == "resize/100x/quality/70/maxbytes/8000"
    assert not budget.is_identity  # the original is not what fits: it is searched for
    assert not plan("maxbytes/8000").is_identity
    assert plan("maxbytes/8000").output_quality("webp") == 80  # the ceiling of the search


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("quality/auto/maxbytes/5000", "'maxbytes/5000': quality/auto and maxbytes both choose"),
        ("maxbytes/5000/quality/auto", "'maxbytes/5000': quality/auto and maxbytes both choose"),
        ("format/png/maxbytes/5000", "'maxbytes/5000': png is written lossless"),
        ("maxbytes/5000/format/gif", "'maxbytes/5000': gif is written lossless"),
        ("format/jpeg/maxbytes/5000/format/png", "'maxbytes/5000': png is written lossless"),
    ],
)
def test_contradictions_are_400_naming_the_budget(path: str, says: str) -> None:
    with pytest.raises(InvalidPipeline) as raised:
        plan(path)
    assert raised.value.message.startswith(says)


def test_a_lossless_source_format_is_refused_once_known() -> None:
    kept = plan("maxbytes/5000")  # the source's format: unknown while planning
    kept.check_budget("jpeg")
    with pytest.raises(InvalidPipeline, match="'maxbytes/5000': png is written lossless"):
        kept.check_budget("png")
    auto = plan("format/auto/maxbytes/5000")
    auto.with_format("avif").check_budget("avif")
    plan("format/png/quality/auto").check_budget("png")  # no budget: nothing to refuse
