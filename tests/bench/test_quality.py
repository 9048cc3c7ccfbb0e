"""`make bench-quality` runs the server's own `quality/auto` search on real pixels."""

from __future__ import annotations

from bench.quality import Row, measure, table
from images_server.engines.quality import AUTO


def test_rows_are_real_searches_of_the_same_pixels() -> None:
    rows = measure(sources=("photo-1mp-1200x900.jpg",), width=300)
    assert [row.format for row in rows] == ["jpeg", "webp", "avif", "jxl"]
    for row in rows:
        grid = AUTO[row.format]  # type: ignore[index]
        assert row.size == "300x225"
        assert row.auto_ssim >= grid.target
        assert grid.low <= row.auto_quality <= grid.high
        assert 1 <= row.encodes <= 5
        assert row.ms > 0
        assert (row.auto_bytes < row.default_bytes) == (row.auto_quality < row.default_quality)
    assert table(rows).count("\n") == 1 + len(rows)


def test_saved_is_the_share_of_the_defaults_bytes() -> None:
    row = Row("a.jpg", "8x8", "jpeg", 85, 1000, 0.98, 70, 750, 0.976, 4, 12.0)
    assert row.saved == 0.25
    assert "| +25% |" in table([row])
    assert "| -10% |" in table([Row("a.jpg", "8x8", "avif", 60, 1000, 0.95, 66, 1100, 0.96, 5, 1)])
