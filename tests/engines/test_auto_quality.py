"""`quality/auto` on both engines: the lowest quality of the grid reaching the SSIM target,
within a bounded number of encoder runs, the same choice on libvips and on ImageMagick."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import pyvips
from prometheus_client import REGISTRY

from images_server.engines.base import Output
from images_server.engines.deadline import NO_DEADLINE, Deadline
from images_server.engines.quality import AUTO, auto_quality, decoded, ssim
from images_server.engines.vips.encode import encode
from images_server.errors import RenderTimeout
from images_server.pipeline.ops import LossyFormat
from tests.images import quadrant_image
from tests.spine import Spine, make_spine

MAX_ENCODES = 5  # 31 qualities on each grid: a binary search ends within 5 runs
FORMATS: tuple[LossyFormat, ...] = ("jpeg", "webp", "avif", "jxl")


def _photo(samples: Path, width: int = 400) -> pyvips.Image:
    return pyvips.Image.thumbnail(str(samples / "photo-1mp-1200x900.jpg"), width).copy_memory()


def _metric(name: str, fmt: LossyFormat) -> float:
    return REGISTRY.get_sample_value(name, {"format": fmt, "mode": "auto"}) or 0.0


def _search(spine: Spine, data: bytes, path: str, fmt: LossyFormat) -> tuple[bytes, int, int]:
    """The body of `path`, and the quality chosen and encoder runs spent for it."""
    chosen, runs = (
        _metric("images_quality_chosen_sum", fmt),
        _metric("images_quality_search_encodes_sum", fmt),
    )
    body = spine(data, path)
    return (
        body,
        round(_metric("images_quality_chosen_sum", fmt) - chosen),
        round(_metric("images_quality_search_encodes_sum", fmt) - runs),
    )


def test_ssim_of_an_image_with_itself_is_one(samples: Path) -> None:
    photo = _photo(samples)
    assert ssim(photo, photo) == pytest.approx(1.0)
    assert ssim(photo, photo.gaussblur(2)) < 0.95
    with pytest.raises(ValueError, match="sizes differ"):
        ssim(photo, photo.crop(0, 0, 10, 10))


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_lowest_quality_that_reaches_the_target(samples: Path, fmt: LossyFormat) -> None:
    photo = _photo(samples)
    runs: list[int] = []

    def run(quality: int) -> bytes:
        runs.append(quality)
        return encode(photo, Output(fmt, quality))

    chosen = auto_quality(run, photo, fmt, (255, 255, 255, 255), NO_DEADLINE)
    grid = AUTO[fmt]
    assert 1 <= len(runs) <= MAX_ENCODES
    assert chosen.encodes == len(runs)
    assert chosen.quality in runs
    assert chosen.score is not None
    assert chosen.score >= grid.target
    below = chosen.quality - grid.step
    assert below >= grid.low  # the photo at 400 px needs more than the floor
    lower = encode(photo, Output(fmt, below))
    assert ssim(photo, decoded(lower)) < grid.target


def test_a_flat_image_takes_the_floor_and_noise_the_top() -> None:
    flat = quadrant_image(200, 150)
    noise = pyvips.Image.gaussnoise(200, 150, sigma=6).cast("uchar")
    noise = noise.bandjoin([noise, noise]).copy(interpretation="srgb")
    for image, expected in ((flat, AUTO["jpeg"].low), (noise, AUTO["jpeg"].high)):

        def run(quality: int, image: pyvips.Image = image) -> bytes:
            return encode(image, Output("jpeg", quality))

        chosen = auto_quality(run, image, "jpeg", (255, 255, 255, 255), NO_DEADLINE)
        assert chosen.quality == expected
        assert chosen.encodes == MAX_ENCODES


def test_every_encoder_run_counts_against_the_deadline(samples: Path) -> None:
    photo = _photo(samples, 200)
    runs: list[int] = []

    def run(quality: int) -> bytes:
        runs.append(quality)
        return encode(photo, Output("webp", quality))

    with pytest.raises(RenderTimeout):
        auto_quality(run, photo, "webp", (255, 255, 255, 255), Deadline(0.0))
    assert len(runs) == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_engine_reaches_the_target_in_bounded_runs(
    spine: Spine, samples: Path, fmt: LossyFormat
) -> None:
    data = (samples / "photo-1mp-1200x900.jpg").read_bytes()
    body, quality, runs = _search(spine, data, f"resize/400x/format/{fmt}/quality/auto", fmt)
    assert 1 <= runs <= MAX_ENCODES
    assert AUTO[fmt].low <= quality <= AUTO[fmt].high
    pixels = decoded(spine(data, "resize/400x/format/png"))  # the same pixels, not encoded
    assert ssim(pixels, decoded(body)) >= AUTO[fmt].target
    fixed = spine(data, f"resize/400x/format/{fmt}/quality/{quality}")
    assert body == fixed  # the result is that quality's encoding: deterministic


@pytest.mark.parametrize(("fmt", "tolerance"), [("jpeg", 2), ("webp", 4), ("avif", 8), ("jxl", 2)])
def test_both_engines_choose_alike(samples: Path, fmt: LossyFormat, tolerance: int) -> None:
    # ImageMagick's AVIF writer maps quality to libaom's quantiser its own way, so the same
    # target lands a few qualities apart; JPEG and WebP are the same libraries, and JPEG XL
    # the same encoder (engines.jxl_encode).
    data = (samples / "photo-1mp-1200x900.jpg").read_bytes()
    path = f"resize/400x/format/{fmt}/quality/auto"
    _, on_vips, _ = _search(make_spine("vips"), data, path, fmt)
    _, on_wand, _ = _search(make_spine("wand"), data, path, fmt)
    assert abs(on_vips - on_wand) <= tolerance


def test_lossless_formats_ignore_auto(spine: Spine, samples: Path) -> None:
    data = (samples / "photo-1mp-1200x900.jpg").read_bytes()
    assert spine(data, "resize/100x/format/png/quality/auto") == spine(
        data, "resize/100x/format/png"
    )
    assert replace(Output("png", 100), auto_quality=True).quality == 100
