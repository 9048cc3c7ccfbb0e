"""`maxbytes/N` on both engines: the highest quality that fits, in a bounded number of encoder
runs, the same answer on libvips and on ImageMagick; `400 over_byte_budget` when quality 1
does not fit, or smaller dimensions when the operator allows them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import pyvips
from prometheus_client import REGISTRY

from images_server.engines.base import Output
from images_server.engines.budget import SHRINK_STEPS, fit_bytes, smaller_sizes
from images_server.engines.deadline import NO_DEADLINE, Deadline
from images_server.engines.vips.encode import encode
from images_server.errors import OverByteBudget, RenderTimeout
from images_server.pipeline.ops import LossyFormat
from images_server.pipeline.plan import DEFAULT_QUALITY
from tests.images import animation, decode_frames, quadrant_image
from tests.spine import Spine, make_spine

MAX_ENCODES = 7  # the ceiling, quality 1, then at most 5 bisections
FORMATS: tuple[LossyFormat, ...] = ("jpeg", "webp", "avif")
# Budgets that need a search at 400x300: about half of the default quality's bytes
BUDGETS: dict[LossyFormat, int] = {"jpeg": 12_000, "webp": 9_000, "avif": 6_000}


def _photo(samples: Path, width: int = 400) -> pyvips.Image:
    return pyvips.Image.thumbnail(str(samples / "photo-1mp-1200x900.jpg"), width).copy_memory()


def _data(samples: Path) -> bytes:
    return (samples / "photo-1mp-1200x900.jpg").read_bytes()


def _metric(name: str, fmt: LossyFormat) -> float:
    return REGISTRY.get_sample_value(name, {"format": fmt, "mode": "maxbytes"}) or 0.0


def _search(spine: Spine, data: bytes, path: str, fmt: LossyFormat) -> tuple[bytes, int, int]:
    """The body of `path`, and the quality chosen and encoder runs spent for it."""
    chosen = _metric("images_quality_chosen_sum", fmt)
    runs = _metric("images_quality_search_encodes_sum", fmt)
    body = spine(data, path)
    return (
        body,
        round(_metric("images_quality_chosen_sum", fmt) - chosen),
        round(_metric("images_quality_search_encodes_sum", fmt) - runs),
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_highest_quality_that_fits(samples: Path, fmt: LossyFormat) -> None:
    photo, limit, ceiling = _photo(samples), BUDGETS[fmt], DEFAULT_QUALITY[fmt]
    tried: dict[int, int] = {}

    def run(quality: int) -> bytes:
        data = encode(photo, Output(fmt, quality))
        tried[quality] = len(data)
        return data

    chosen = fit_bytes(run, (400, 300), limit, fmt, NO_DEADLINE, ceiling)
    assert len(chosen.data) <= limit
    assert chosen.encodes == len(tried) <= MAX_ENCODES
    assert tried[chosen.quality] == len(chosen.data)
    assert 1 < chosen.quality < ceiling
    assert tried[ceiling] > limit
    # the bisection ends next to a quality measured not to fit: within 3 of the best
    assert any(tried.get(chosen.quality + step, 0) > limit for step in (1, 2, 3))


def test_a_generous_budget_is_one_encode_at_the_ceiling(spine: Spine, samples: Path) -> None:
    data = _data(samples)
    for ceiling in ("", "/quality/50", "/quality/jpeg:70"):
        path = f"resize/300x/format/jpeg{ceiling}"
        body, quality, runs = _search(spine, data, f"{path}/maxbytes/20000000", "jpeg")
        assert runs == 1
        assert body == spine(data, path)  # the quality it would have had anyway
        assert quality == (int(ceiling.rsplit(":", 1)[-1].rsplit("/", 1)[-1]) if ceiling else 85)


@pytest.mark.parametrize("fmt", FORMATS)
def test_engine_fits_in_bounded_runs(spine: Spine, samples: Path, fmt: LossyFormat) -> None:
    data = _data(samples)
    path = f"resize/400x/format/{fmt}/maxbytes/{BUDGETS[fmt]}"
    body, quality, runs = _search(spine, data, path, fmt)
    assert len(body) <= BUDGETS[fmt]
    assert 2 < runs <= MAX_ENCODES
    assert 1 < quality < DEFAULT_QUALITY[fmt]
    assert body == spine(data, f"resize/400x/format/{fmt}/quality/{quality}")  # deterministic


@pytest.mark.parametrize(("fmt", "tolerance"), [("jpeg", 2), ("webp", 4), ("avif", 8)])
def test_both_engines_choose_alike(samples: Path, fmt: LossyFormat, tolerance: int) -> None:
    # ImageMagick's AVIF writer maps quality to libaom's quantiser its own way (as for
    # quality/auto); JPEG and WebP are the same libraries on pixels resized a little apart.
    data, path = _data(samples), f"resize/400x/format/{fmt}/maxbytes/{BUDGETS[fmt]}"
    _, on_vips, _ = _search(make_spine("vips"), data, path, fmt)
    _, on_wand, _ = _search(make_spine("wand"), data, path, fmt)
    assert abs(on_vips - on_wand) <= tolerance


def test_a_ceiling_of_one_is_encoded_once(samples: Path) -> None:
    photo, runs = _photo(samples, 200), []

    def run(quality: int) -> bytes:
        runs.append(quality)
        return encode(photo, Output("jpeg", quality))

    with pytest.raises(OverByteBudget):
        fit_bytes(run, (200, 150), 100, "jpeg", NO_DEADLINE, 1)
    assert runs == [1]
    assert fit_bytes(run, (200, 150), 20_000, "jpeg", NO_DEADLINE, 1).quality == 1


def test_over_the_budget_is_a_400_naming_it(spine: Spine, samples: Path) -> None:
    before = _metric("images_quality_search_encodes_count", "webp")
    with pytest.raises(OverByteBudget) as raised:
        spine(_data(samples), "resize/400x/format/webp/maxbytes/300")
    assert raised.value.status == 400
    assert raised.value.code == "over_byte_budget"
    message = raised.value.message
    assert message.startswith("'maxbytes/300': the output does not fit the budget of 300 bytes")
    assert re.search(r"at quality 1: the smallest reached is \d+ bytes \(at 400x300\); ", message)
    assert _metric("images_quality_search_encodes_count", "webp") == before  # no choice made


def test_the_operator_may_allow_smaller_dimensions(engine_name: str, samples: Path) -> None:
    # JPEG quality 1 of the photo is about 1270 bytes at 400x300, 930 at 320x240
    data, path = _data(samples), "resize/400x/format/jpeg/maxbytes/1000"
    with pytest.raises(OverByteBudget):
        make_spine(engine_name)(data, path)
    body, _, runs = _search(make_spine(engine_name, maxbytes_resize=True), data, path, "jpeg")
    assert len(body) <= 1000
    image = pyvips.Image.new_from_buffer(body, "")
    assert (image.width, image.height) == smaller_sizes(400, 300)[0] == (320, 240)
    assert runs <= MAX_ENCODES + SHRINK_STEPS


def test_shrinking_stops_after_its_steps(engine_name: str, samples: Path) -> None:
    spine = make_spine(engine_name, maxbytes_resize=True)
    with pytest.raises(OverByteBudget) as raised:
        spine(_data(samples), "resize/400x/format/jpeg/maxbytes/100")
    smallest = "x".join(map(str, smaller_sizes(400, 300)[-1]))
    assert smallest == "164x123"
    assert f"(at {smallest}, the smallest size tried);" in raised.value.message


def test_every_encoder_run_counts_against_the_deadline(samples: Path) -> None:
    photo, runs = _photo(samples, 200), []

    def run(quality: int) -> bytes:
        runs.append(quality)
        return encode(photo, Output("webp", quality))

    with pytest.raises(RenderTimeout):
        fit_bytes(run, (200, 150), 1000, "webp", Deadline(0.0), 80)
    assert runs == [80]


def test_an_animation_is_searched_but_never_shrunk(engine_name: str) -> None:
    frames = [quadrant_image(120, 90), quadrant_image(120, 90).flip("horizontal")]
    data = animation(frames, "webp", [100, 100])
    spine = make_spine(engine_name, maxbytes_resize=True)
    lossy = spine(data, "format/webp/quality/90")
    body = spine(data, f"format/webp/maxbytes/{len(lossy) - 1}")
    assert len(body) < len(lossy)
    assert [(f.width, f.height) for f in decode_frames(body)] == [(120, 90), (120, 90)]
    with pytest.raises(OverByteBudget, match=r"\(at 120x90\);"):
        spine(data, "format/webp/maxbytes/100")
