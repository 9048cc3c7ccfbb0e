"""Golden images: both engines, through the real spine, against ImageMagick's own results.

`make_golden.py` wrote one PNG per case with `/usr/bin/convert` (listed in `cases.json`); here
each engine renders the same pipeline from the same small source, and our output, decoded, must
have the reference's exact size and be close to it in pixels. Closeness is the mean absolute
error (MAE, 0..255) in two parts: colour over R, G and B premultiplied by alpha (as if both
images were flattened on black, so the colour of fully transparent pixels, which nobody sees and
encoders store as they like, does not count), and alpha on its own, a missing alpha band
counting as opaque. A grey PNG is compared as RGB. Each case has a kind, and `TOLERANCES`
gives the limit of each kind with the reason it is not zero. A wrong crop, flip, turn, fill or
offset costs 3 to 100; each limit is a little above what a correct engine was measured to
reach, so an engine over it has a bug to fix, not a limit to raise.

`crop/smart` has no ImageMagick equivalent: it is tested here on a picture with one obvious
subject. The freshness test regenerates a few references with `convert` and wants them equal
to the stored ones, so the golden files cannot drift from the script that makes them.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pyvips

from images_server.formats.sniff import sniff
from images_server.pipeline.parse import PARSERS
from tests import images
from tests.golden import make_golden
from tests.spine import Spine

HERE = Path(__file__).resolve().parent
CASES: list[dict[str, Any]] = json.loads((HERE / "cases.json").read_text())


@dataclass(frozen=True)
class Tolerance:
    colour: float
    alpha: float
    why: str


TOLERANCES = {
    "exact": Tolerance(0.0, 0.0, "pixels only move (crop, flip, right angles, invert, pad "
                       "without a resize), and both engines decode JPEG with libjpeg-turbo"),
    "colour": Tolerance(0.1, 0.0, "a colour matrix: ImageMagick truncates the product to 8 bits "
                        "(floor matches it to 0.001; rounding instead would cost 0.5)"),
    "shrink": Tolerance(1.5, 1.0, "libvips reduces with its own Lanczos3 kernel (and "
                        "shrink-on-load), ImageMagick with its Lanczos filter: the same picture"),
    "enlarge": Tolerance(1.5, 1.0, "ImageMagick enlarges with Mitchell, libvips with an "
                         "interpolator; centre-aligned, they agree to about 1.2"),
    "rotate": Tolerance(2.5, 1.5, "ImageMagick turns by three shears, libvips by an affine "
                        "interpolation: edges and the canvas border differ slightly"),
    "convolve": Tolerance(1.0, 0.75, "float Gaussian kernels cut off at different widths "
                          "(libvips' min_ampl 0.01 against ImageMagick's radius from sigma), "
                          "both truncated to 8 bits: they agree to about 0.6"),
    "lossy": Tolerance(5.0, 1.0, "JPEG 85, WebP 80, AVIF 60 and JPEG XL 75 encoding noise "
                       "against a lossless reference (alpha: WebP's is lossless, AVIF's and "
                       "JPEG XL's nearly)"),
    "low-quality": Tolerance(8.5, 0.0, "quality 30 is meant to lose detail: the same picture, "
                             "coarser"),
    "palette": Tolerance(3.0, 7.0, "GIF has 256 colours and 1-bit alpha (soft shadows become "
                         "on or off)"),
    "adjust": Tolerance(0.15, 0.4, "colour adjustments, block means and corner masks: the same "
                        "maths, truncated to 8 bits as ImageMagick does (0 to 0.1 apart); a "
                        "pixelated alpha's block means round the other way on a quarter of "
                        "the pixels (0.27)"),
}  # fmt: skip


@dataclass(frozen=True)
class Diff:
    colour: float
    alpha: float


def decode(data: bytes) -> pyvips.Image:
    image = images.decode(data)  # JPEG XL by the server's shared decoder
    assert image.format == "uchar", "8-bit images only"
    return image.colourspace("srgb") if image.bands in (1, 2) else image


def _parts(image: pyvips.Image) -> tuple[pyvips.Image, pyvips.Image]:
    """Colour premultiplied by alpha, and alpha (opaque when there is none), as floats."""
    alpha = image[3] if image.bands == 4 else image[0].new_from_image(255)
    alpha = alpha.cast("float")
    return image[:3].cast("float") * alpha / 255, alpha


def compare(actual: pyvips.Image, expected: pyvips.Image) -> Diff:
    colour_a, alpha_a = _parts(actual)
    colour_b, alpha_b = _parts(expected)
    return Diff((colour_a - colour_b).abs().avg(), (alpha_a - alpha_b).abs().avg())


def output_format(case: dict[str, Any]) -> str:
    """The format the pipeline asks for: its last `format/x`, else the source's."""
    parts = str(case["pipeline"]).split("/")
    asked = [arg for op, arg in zip(parts[::2], parts[1::2], strict=True) if op == "format"]
    name = asked[-1] if asked else str(case["source"]).rsplit(".", 1)[1]
    return "jpeg" if name == "jpg" else name


def assert_matches_reference(ours: bytes, case: dict[str, Any]) -> None:
    """`ours` is in the case's output format, of its reference's size, and within the
    tolerance of the case's kind."""
    assert sniff(ours).format == output_format(case)
    actual, expected = decode(ours), decode((HERE / case["file"]).read_bytes())
    assert (actual.width, actual.height) == (expected.width, expected.height)
    limit, diff = TOLERANCES[case["kind"]], compare(actual, expected)
    assert diff.colour <= limit.colour, f"colour MAE {diff.colour:.3f} > {limit.colour}"
    assert diff.alpha <= limit.alpha, f"alpha MAE {diff.alpha:.3f} > {limit.alpha}"


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_matches_imagemagick(spine: Spine, case: dict[str, Any]) -> None:
    assert_matches_reference(spine((HERE / case["source"]).read_bytes(), case["pipeline"]), case)


def test_cases_json_is_what_the_script_writes() -> None:
    assert (HERE / "cases.json").read_text() == make_golden.cases_json()
    assert set(TOLERANCES) == set(make_golden.KINDS)
    assert {case["kind"] for case in CASES} <= set(TOLERANCES)
    expected = {HERE / case["file"] for case in CASES}
    assert set((HERE / "expected").glob("*.png")) == expected


# Ops whose reference is elsewhere, and why
COVERED_ELSEWHERE = {
    "overlay": "a second stored image, which these one-source cases cannot name: "
    "tests/engines/test_overlay.py compares both engines with convert's -composite",
    "text": "one renderer draws text for both engines and ImageMagick rasterises fonts its own "
    "way, so there is no reference: tests/engines/test_text.py",
}


def test_every_op_has_a_golden_case() -> None:
    ops = {op for case in CASES for op in case["pipeline"].split("/")[::2]}
    assert ops == {*PARSERS, "preset"} - set(COVERED_ELSEWHERE)


def _subject_picture(fmt: str) -> bytes:
    """A flat grey 240x180 picture with one red disc (r=14) near its top-right corner."""
    x, y = pyvips.Image.xyz(240, 180)[0], pyvips.Image.xyz(240, 180)[1]
    disc = ((x - 195) ** 2 + (y - 40) ** 2) <= 14**2
    image = disc.ifthenelse([230, 20, 30], [128, 128, 128]).cast("uchar")
    return bytes(image.copy(interpretation="srgb").write_to_buffer(f".{fmt}"))


def _red_pixels(image: pyvips.Image) -> int:
    red = (image[0] > 180) & (image[1] < 80) & (image[2] < 80)
    return int(red.avg() / 255 * image.width * image.height + 0.5)


@pytest.mark.parametrize(
    ("fmt", "before", "box"),
    [("png", "", "100x100"), ("png", "", "80x180"), ("png", "", "240x70"),
     ("jpeg", "", "100x100"), ("jpeg", "resize/120x/", "50x50")],
)  # fmt: skip
def test_smart_crop_keeps_the_subject(spine: Spine, fmt: str, before: str, box: str) -> None:
    data = _subject_picture(fmt)
    subject = _red_pixels(decode(spine(data, f"{before}format/png")))
    out = decode(spine(data, f"{before}crop/smart{box}/format/png"))
    assert f"{out.width}x{out.height}" == box
    assert _red_pixels(out) == subject > 50  # the whole disc, which a centre crop misses:
    assert _red_pixels(decode(spine(data, f"{before}crop/{box}/format/png"))) < subject


@pytest.mark.imagemagick
def test_golden_files_are_fresh(convert: str, samples: Path, tmp_path: Path) -> None:
    """`convert` today makes what is stored: three random cases, and every source."""
    for source in make_golden.SOURCES.values():
        fresh = make_golden.make_source(source, tmp_path / "sources", samples, convert)
        stored = HERE / "sources" / source.file
        assert _pixels(fresh) == _pixels(stored), f"{stored} is stale: run make_golden"
    by_name = {case.name: case for case in make_golden.CASES}
    for case in random.sample(CASES, 3):
        fresh = make_golden.make_reference(
            by_name[case["name"]], HERE / "sources", tmp_path / f"{case['name']}.png", convert
        )
        stored = HERE / case["file"]
        assert _pixels(fresh) == _pixels(stored), f"{stored} is stale: run make_golden"


def _pixels(path: Path) -> tuple[int, int, int, bytes]:
    image = pyvips.Image.new_from_file(str(path))
    return image.width, image.height, image.bands, bytes(image.write_to_memory())
