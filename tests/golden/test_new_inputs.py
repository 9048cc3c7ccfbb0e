"""The golden cases again, from the same pixels stored in the inputs the shared decoders read.
Each golden source's decoded pixels are written losslessly as a TIFF and as a JPEG XL (every
input format that can hold them losslessly: `WRAPPERS`), and every case whose source it is must
give the very reference ImageMagick made from the original, within the same tolerance: the
shared decoder changes where pixels come from, never what is done with them. A source without
alpha is served as JPEG and one with alpha as PNG, as the original JPEG and PNG are, so the
output format checks hold unchanged. (`orient6.jpg` is left out: its EXIF orientation lives in
the JPEG, and TIFF orientation has its own tests in tests/decoders/test_tiff.py.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import pyvips

from images_server.engines import jxl_encode
from images_server.formats.sniff import sniff
from tests.golden.test_golden import CASES, HERE, assert_matches_reference
from tests.spine import Spine


def _lossless_jxl(image: pyvips.Image) -> bytes:
    pixels = image.write_to_memory()
    return jxl_encode.encode(pixels, image.width, image.height, image.bands, jxl_encode.LOSSLESS)


WRAPPERS: dict[str, Callable[[pyvips.Image], bytes]] = {
    "tiff": lambda image: bytes(image.tiffsave_buffer(compression="deflate")),
    "jxl": _lossless_jxl,
}
CASES_FROM = [case for case in CASES if case["source"] != "sources/orient6.jpg"]


def _wrapped(case: dict[str, Any], fmt: str) -> bytes:
    original = pyvips.Image.new_from_buffer((HERE / case["source"]).read_bytes(), "")
    data = WRAPPERS[fmt](original)
    assert sniff(data).format == fmt
    return data


@pytest.mark.parametrize("fmt", WRAPPERS)
@pytest.mark.parametrize("case", CASES_FROM, ids=[case["name"] for case in CASES_FROM])
def test_the_same_pixels_in_another_input_give_the_same_answer(
    spine: Spine, case: dict[str, Any], fmt: str
) -> None:
    assert_matches_reference(spine(_wrapped(case, fmt), case["pipeline"]), case)
