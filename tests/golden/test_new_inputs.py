"""The golden cases again, from the same pixels stored in the inputs the shared decoders read.

Each golden source's decoded pixels are written losslessly as a TIFF (and so on for every
lossless input format in `WRAPPERS`), and every case whose source it is must give the very
reference ImageMagick made from the original, within the same tolerance: the shared decoder
changes where pixels come from, never what is done with them. A source without alpha is
served as JPEG and one with alpha as PNG, as the original JPEG and PNG are, so the output
format checks hold unchanged. (`orient6.jpg` is left out: its EXIF orientation lives in the
JPEG, and TIFF orientation has its own tests in tests/decoders/test_tiff.py.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import pyvips

from images_server.formats.sniff import sniff
from tests.golden.test_golden import CASES, HERE, TOLERANCES, compare, decode, output_format
from tests.spine import Spine

WRAPPERS: dict[str, Callable[[pyvips.Image], bytes]] = {
    "tiff": lambda image: bytes(image.tiffsave_buffer(compression="deflate")),
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
    ours = spine(_wrapped(case, fmt), case["pipeline"])

    assert sniff(ours).format == output_format(case)
    actual, expected = decode(ours), decode((HERE / case["file"]).read_bytes())
    assert (actual.width, actual.height) == (expected.width, expected.height)
    limit, diff = TOLERANCES[case["kind"]], compare(actual, expected)
    assert diff.colour <= limit.colour, f"colour MAE {diff.colour:.3f} > {limit.colour}"
    assert diff.alpha <= limit.alpha, f"alpha MAE {diff.alpha:.3f} > {limit.alpha}"
