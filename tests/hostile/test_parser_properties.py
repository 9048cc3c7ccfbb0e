"""Property tests of the pipeline language: any text, any op with any argument, and any plan
resolved against any image size either works or raises the project's 400 errors
(`InvalidPipeline`, `OutputTooLarge`), never anything else; and over HTTP, on both engines,
random pipelines on an uploaded image are answered 200 or 400, never 5xx. Hypothesis runs
derandomized with a fixed budget, so CI sees the same examples on every run.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from images_server import faces
from images_server.app import create_app
from images_server.errors import BadRequest, InvalidPipeline, OutputTooLarge
from images_server.hashing import parse_hash
from images_server.pipeline.focus import ImageHints
from images_server.pipeline.geometry import Box
from images_server.pipeline.ops import OUTPUT_FORMATS, MaxBytes, Op
from images_server.pipeline.overlay import MAX_TILES, OverlayImage
from images_server.pipeline.parse import KNOWN_OPS, parse_pipeline
from images_server.pipeline.plan import Plan, make_plan
from images_server.pipeline.presets import DEFAULT_PRESETS
from images_server.pipeline.steps import (
    CropTo,
    OverlayAt,
    PadTo,
    RedactBoxes,
    ResizeTo,
    Resolved,
    RotateBy,
    TrimThen,
    after_trim,
    resolve,
)
from images_server.services import Services
from tests.hostile.conftest import assert_error, describe, hostile_settings
from tests.images import quadrant_bytes

MAX_OPS = 10
MAX_OUTPUT_PIXELS = 50_000_000

PROPERTY = hypothesis_settings(max_examples=500, deadline=None, derandomize=True, database=None)

# --- strategies --------------------------------------------------------------------------------

DIGITS = st.text("0123456789", min_size=1, max_size=7)
HUGE = st.sampled_from(["9" * 20, "4294967296", "2147483648", "65536", "65535", "0", "00001"])
NUMBER = st.one_of(DIGITS, HUGE, st.integers(-(10**12), 10**12).map(str))
FLOAT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(-1e6, 1e6).map(lambda value: f"{value:.9f}"),
    st.sampled_from(["nan", "inf", "-inf", "1e308", "1e-308", "-0", "0.0", ".5", "5.", "1_0"]),
)
UNICODE_DIGITS = st.sampled_from(["\u0661\u0662", "\uff11\uff12", "\u0967", "\u00b2", "\u2155"])
GARBAGE = st.sampled_from(
    ["", " ", "%", "%25", "%00", "%zz", "%2F", "\x00", "\n", "..", "../..", "\u202e", "\ufeff",
     "x", "X", "!", "^", "<", ">", "@", "+", "-", "++", "--", "\ud800", "\U0001f600"]
)  # fmt: skip
# `maxbytes` budgets: around and past both ends of 100..20,000,000, and any whole number
BYTES = st.one_of(
    st.sampled_from(["99", "100", "101", "20000000", "20000001", "0100", "999999999", "1e3"]),
    st.integers(-1, 30_000_000).map(str),
)
GRAVITY = st.sampled_from(
    ["", "nw", "n", "ne", "w", "c", "e", "sw", "s", "se", "smart", "NW", "focal", "face", "focal:"]
)
FLAG = st.sampled_from(["", "!", ">", "<", "^", "%", "!!", "^>"])
PIECE = st.one_of(NUMBER, FLOAT, UNICODE_DIGITS, GARBAGE)
FOCAL_POINT = st.one_of(
    st.tuples(st.floats(0, 1).map(lambda v: f"{v:.4f}"), st.floats(0, 1).map(lambda v: f"{v:.2f}")),
    st.tuples(PIECE, PIECE),
).map(lambda point: f"focal:{point[0]},{point[1]}:")


@st.composite
def geometry(draw: st.DrawFn) -> str:
    """Resize and crop geometry, right and wrong: `[g]WxH[flag][+X+Y]`, `N%`, `@A`."""
    width = draw(st.one_of(st.just(""), PIECE))
    height = draw(st.one_of(st.just(""), PIECE))
    cross = draw(st.sampled_from(["x", "", "X", "xx"]))
    form = draw(st.sampled_from(["box", "percent", "area", "offset", "focal"]))
    if form == "focal":
        return f"{draw(FOCAL_POINT)}{width}{cross}{height}"
    if form == "percent":
        return f"{draw(PIECE)}%"
    if form == "area":
        return f"@{draw(PIECE)}"
    text = f"{draw(GRAVITY)}{width}{cross}{height}{draw(FLAG)}"
    if form == "offset":
        text += f"{draw(st.sampled_from(['+', '-', '']))}{draw(PIECE)}+{draw(PIECE)}"
    return text


OVERLAY_HASH = "ab" * 32
OVERLAYS = {OVERLAY_HASH: OverlayImage(b"", 300, 225)}  # what resolve sees of a stored one
OVERLAY_OPTION = st.one_of(
    GRAVITY, PIECE, st.sampled_from(["tile", "o", "s", "o60", "s25", "o0", "s101", "min400"]),
    st.builds("{}{}".format, st.sampled_from(["o", "s", "min"]), NUMBER),
)  # fmt: skip


@st.composite
def overlay_argument(draw: st.DrawFn) -> str:
    """`<hash>,<options>`: a stored hash (or a wrong one) and options right and wrong."""
    image = draw(st.sampled_from([OVERLAY_HASH, "cd" * 32, OVERLAY_HASH.upper(), "ab", ""]))
    return ",".join([image, *draw(st.lists(OVERLAY_OPTION, max_size=6))])


REDACT = st.one_of(
    st.sampled_from(["faces", "faces,pixelate", "faces,blur", "faces,", "FACES", "faces,mosaic"]),
    st.tuples(
        PIECE, PIECE, PIECE, PIECE, st.sampled_from(["", ",pixelate", ",blur", ",", ",x"])
    ).map(lambda parts: ",".join(parts[:4]) + parts[4]),
)

ARGUMENT = st.one_of(
    overlay_argument(),
    geometry(),
    REDACT,
    PIECE,
    BYTES,
    st.sampled_from([*OUTPUT_FORMATS, "jpg", "auto", "JPEG", "bmp", "svg", "mvg"]),
    st.sampled_from(["h", "v", "hv", "vh", "hh", "H", "grayscale", "sepia", "invert", "blur"]),
    st.sampled_from(["max", "MAX", "max,1", "0", "1", "255", "256", "0.1", "4.001", "10", "1000"]),
    st.sampled_from([*DEFAULT_PRESETS, "Thumb", "nope", "../thumb"]),
    st.text("0123456789abcdefABCDEFxyz", max_size=10),
    st.text(max_size=12),
)
OP_NAME = st.one_of(
    st.sampled_from(KNOWN_OPS),
    st.sampled_from(["", "RESIZE", "resize ", "pipeline", "__class__", "eval", "url", "%72esize"]),
    st.text(max_size=8),
)


@st.composite
def structured_path(draw: st.DrawFn) -> str:
    """`op/arg/op/arg...` from real op names and hostile arguments, sometimes malformed."""
    pairs = draw(st.lists(st.tuples(OP_NAME, ARGUMENT), max_size=12))
    segments = [part for pair in pairs for part in pair]
    malformed: bool = draw(st.booleans())
    if segments and malformed:
        del segments[draw(st.integers(0, len(segments) - 1))]  # an odd count
    path = "/".join(segments)
    return draw(st.sampled_from([path, path + "/", "/" + path, path.replace("/", "//", 1)]))


def _joined(pairs: list[tuple[str, str]]) -> str:
    return "/".join(part for pair in pairs for part in pair)


WELL_FORMED = st.lists(
    st.tuples(st.sampled_from(KNOWN_OPS), ARGUMENT), min_size=1, max_size=10
).map(_joined)
SIZE = st.integers(1, 20_000)


# --- the one outcome every input may have ---------------------------------------------------------


def _parse(path: str) -> tuple[Op, ...] | BadRequest:
    try:
        return parse_pipeline(path, MAX_OPS, DEFAULT_PRESETS)
    except InvalidPipeline as exc:
        return exc


def parsed(path: str) -> tuple[Op, ...] | None:
    """The ops of `path`, or None when it is refused with `InvalidPipeline` (400)."""
    result = _parse(path)
    if isinstance(result, BadRequest):
        assert result.status == 400
        assert result.message
        return None
    assert isinstance(result, tuple)
    return result


def planned(path: str) -> Plan | None:
    ops = parsed(path)
    if ops is None:
        return None
    try:
        plan = make_plan(ops)
    except InvalidPipeline:
        return None
    if plan.format == "auto":
        plan = plan.with_format("webp")
    assert plan.canonical() == plan.canonical()
    assert len(plan.variant("engine")) == 40
    return plan


# facts of an image, so focal and face crops are placed from them (pipeline/focus.py)
HINTS = ImageHints(focal=(0.2, 0.7), faces=((0.1, 0.1, 0.3, 0.3), (0.6, 0.5, 0.2, 0.2)))


def _resolve(plan: Plan, width: int, height: int) -> Resolved | BadRequest:
    try:
        return resolve(plan.ops, width, height, MAX_OUTPUT_PIXELS, OVERLAYS, HINTS)
    except (InvalidPipeline, OutputTooLarge) as exc:
        return exc


def resolved(plan: Plan, width: int, height: int) -> Resolved | None:
    """Steps for a `width` x `height` source, checked for sizes that make sense."""
    result = _resolve(plan, width, height)
    if isinstance(result, BadRequest):
        assert result.status == 400
        assert result.message
        return None
    for step in result.steps:
        match step:
            case ResizeTo(w, h) | RotateBy(_, w, h) | PadTo(w, h, _, _):
                assert w >= 1
                assert h >= 1
                assert w * h <= MAX_OUTPUT_PIXELS
            case OverlayAt(source, w, h, opacity, positions):
                assert source is OVERLAYS[OVERLAY_HASH]
                assert 1 <= w * h <= MAX_OUTPUT_PIXELS
                assert 0 < opacity <= 1
                assert 1 <= len(positions) <= MAX_TILES
            case CropTo(box):
                assert box.width >= 1
                assert box.height >= 1
                assert box.x >= 0
                assert box.y >= 0
            case TrimThen():
                _after_any_trim(step, width, height)
            case RedactBoxes(boxes):
                assert boxes
                assert all(min(b.x, b.y) >= 0 and min(b.width, b.height) >= 1 for b in boxes)
    assert result.width >= 1
    assert result.height >= 1
    return result


def _after_any_trim(step: TrimThen, width: int, height: int) -> None:
    """Whatever box a trim finds (the whole image, a strip, a pixel), the ops after it are
    sized for it or refused with a 400, as they are before any trim."""
    for box in (Box(0, 0, width, height), Box(0, 0, width, 1), Box(0, 0, 1, height),
                Box(width // 2, height // 2, 1, 1)):  # fmt: skip
        outcome: tuple[object, ...] | BadRequest
        try:
            outcome = after_trim(step, box, 16383)
        except (InvalidPipeline, OutputTooLarge) as exc:
            outcome = exc
        if isinstance(outcome, BadRequest):
            assert outcome.status == 400
            assert outcome.message
            continue
        assert outcome[0] == CropTo(box)
        resolved(Plan(step.rest), box.width, box.height)


# --- properties ----------------------------------------------------------------------------------


@PROPERTY
@given(st.text(max_size=200))
def test_any_text_parses_or_is_invalid_pipeline(path: str) -> None:
    planned(path)


@PROPERTY
@given(st.lists(st.text(max_size=12), max_size=24).map("/".join))
def test_any_segments_parse_or_are_invalid_pipeline(path: str) -> None:
    planned(path)


@PROPERTY
@given(structured_path())
def test_real_ops_with_hostile_arguments_parse_or_are_invalid_pipeline(path: str) -> None:
    planned(path)


@PROPERTY
@given(structured_path(), SIZE, SIZE)
def test_plans_resolve_or_are_400_for_any_image_size(path: str, width: int, height: int) -> None:
    plan = planned(path)
    if plan is not None:
        resolved(plan, width, height)


@PROPERTY
@given(WELL_FORMED, SIZE, SIZE)
def test_well_formed_pipelines_resolve_or_are_400(path: str, width: int, height: int) -> None:
    """Only real op names, an argument each: the parser's value checks meet `resolve`."""
    plan = planned(path)
    if plan is not None:
        resolved(plan, width, height)


@PROPERTY
@given(structured_path())
def test_the_canonical_pipeline_plans_the_same(path: str) -> None:
    """Normalisation is a fixed point: the canonical text of a plan plans to that plan."""
    plan = planned(path)
    if plan is None:
        return
    again = planned(plan.canonical())
    assert again == plan, (path, plan.canonical())


NUMERIC_OPS = st.sampled_from(["rotate", "quality", "maxbytes", "blur", "sharpen", "dpr", "pad",
                               "resize", "trim", "brightness", "contrast", "saturation", "gamma",
                               "hue", "radius", "pixelate"])  # fmt: skip


@PROPERTY
@given(st.one_of(BYTES, PIECE))
def test_a_budget_parses_exactly_when_in_range(arg: str) -> None:
    ops = parsed(f"maxbytes/{arg}")
    in_range = arg.isascii() and arg.isdigit() and len(arg) <= 9 and 100 <= int(arg) <= 20_000_000
    assert (ops == (MaxBytes(int(arg)),)) if in_range else ops is None, arg


NON_ASCII_NUMBER = st.one_of(
    UNICODE_DIGITS,
    st.tuples(UNICODE_DIGITS, UNICODE_DIGITS).map("x".join),
    st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=3),
)


@PROPERTY
@given(
    st.one_of(
        structured_path(), WELL_FORMED, st.tuples(NUMERIC_OPS, NON_ASCII_NUMBER).map("/".join)
    )
)
def test_only_ascii_pipelines_are_accepted(path: str) -> None:
    """The grammar is ASCII: Arabic-Indic or full-width digits are other spellings, not numbers."""
    if parsed(path):
        assert path.isascii(), path


# --- over HTTP, on both engines -------------------------------------------------------------


@pytest.fixture
def http_client(tmp_path: Path, engine_name: str) -> tuple[FlaskClient, str]:
    settings = hostile_settings(tmp_path / "data", engine_name, max_output_pixels=40_000)
    client = create_app(settings).test_client()
    response = client.post("/upload", data=quadrant_bytes(48, 36, "png"), content_type="image/png")
    assert response.status_code == 201, describe(response)
    digest = str(response.get_json()["hash"])
    services = cast(Services, client.application.extensions["images"])
    faces.detect(services, parse_hash(digest))  # as the worker does: redact/faces then renders
    return client, digest


HTTP_PATH = st.one_of(structured_path().map(lambda path: path.lstrip("/")), WELL_FORMED)


@hypothesis_settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(path=HTTP_PATH)
def test_random_pipelines_over_http_are_200_or_400(
    http_client: tuple[FlaskClient, str], path: str
) -> None:
    """`/image/<hash>/<path>` with the path percent-encoded, so the server sees it as drawn."""
    client, digest = http_client
    url = f"/image/{digest}/{quote(path, safe='/', errors='surrogatepass')}"
    response = client.get(url)
    if response.status_code != 200:
        assert_error(response, 400, None)
