"""`make bench-encoders` measures real encodes: bytes, time and SSIM per format and effort."""

from __future__ import annotations

from bench.encoders import SOURCES, measure, table
from images_server.engines import jxl_encode
from images_server.engines.vips.encode import AVIF_EFFORT, WEBP_EFFORT


def test_each_row_is_a_real_encode_of_the_same_pixels() -> None:
    settings = (
        ("jpeg", 85, 0),
        ("jpeg", 85, 1),
        ("webp", 80, WEBP_EFFORT),
        ("avif", 60, AVIF_EFFORT),
        ("jxl", 75, jxl_encode.EFFORT),
    )
    rows = measure(1, sources=SOURCES[-1:], settings=settings)
    assert [(row.format, row.effort) for row in rows] == [(f, e) for f, _, e in settings]
    assert {row.size for row in rows} == {"300x200"}
    for row in rows:
        assert 1_000 < row.bytes < 300 * 200 * 3  # compressed, not empty
        assert 0.85 < row.ssim < 1.0  # lossy, yet the same picture
        assert row.ms > 0
    lower = measure(1, sources=SOURCES[-1:], settings=(("webp", 40, WEBP_EFFORT),))[0]
    assert lower.bytes < rows[2].bytes
    assert lower.ssim < rows[2].ssim
    standard, optimised = rows[0], rows[1]  # the same pixels and coefficients: only the tables
    assert standard.ssim == optimised.ssim
    assert standard.bytes > optimised.bytes
    assert table(rows).count("\n") == 1 + len(rows)
