"""Both engines give the same answer for every real sample of every shared decoder's format:
they read the same decoded pixels (`decoders.decodable`), so only their own resizers differ."""

from __future__ import annotations

from pathlib import Path

import pytest

from images_server.formats.sniff import sniff
from tests.engines.test_contract import mae
from tests.images import SAMPLES, decode
from tests.spine import make_spine

SHARED = ("tiff", "heic", "jxl", "svg")
FILES = sorted(
    path.relative_to(SAMPLES)
    for folder in SHARED
    for path in (SAMPLES / folder).iterdir()
    if path.suffix not in (".md", "") and not path.name.startswith(("LICENSE", "SHA256SUMS"))
)


@pytest.mark.parametrize("name", FILES, ids=[str(name) for name in FILES])
def test_both_engines_give_the_same_answer(name: Path) -> None:
    data = (SAMPLES / name).read_bytes()
    info = sniff(data)

    vips = make_spine("vips", svg_enabled=True)(data, "resize/80x/format/png")  # off by default
    wand = make_spine("wand", svg_enabled=True)(data, "resize/80x/format/png")

    expected_height = round(80 * info.height / info.width)
    for body in (vips, wand):
        image = decode(body)
        assert image.width == 80
        assert abs(image.height - expected_height) <= 1
    assert mae(vips, wand) < 2.0
