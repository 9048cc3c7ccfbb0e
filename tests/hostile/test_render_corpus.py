"""Valid but nasty originals (strips a pixel wide, 1x1s, palette with tRNS, 16-bit, CMYK, an
animation at the frame limit, metadata bombs) through pipelines that push every limit, on
both engines: 200 or 400, never a 5xx, with exact answers where docs/api.md fixes one (an output
over the limit, or over what the output format can hold, is 400). A legal pipeline that runs
past `render_timeout` is cut off with a quick 503, and the app keeps serving.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest
import pyvips
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from images_server.app import create_app
from tests.hostile.conftest import (
    assert_error,
    assert_healthy,
    describe,
    files_under,
    hostile_settings,
    temp_files,
)
from tests.hostile.corpus import (
    after_soi,
    exif_loop_app1,
    icc_header,
    png_chunk,
    with_chunk,
    zeros_zlib,
)
from tests.images import animation, encode, quadrant_bytes, quadrant_image

MAX_OUTPUT_PIXELS = 250_000  # small, so "big" outputs stay cheap and "bigger" ones are 400
MAX_ANIMATION_PIXELS = 5_000_000
METADATA_BOMBS = {"ztxt": 256 << 20, "iccp": 64 << 20}  # bytes they inflate to
METADATA_BUDGET = 0.5  # seconds a render of a 64x48 image may take, whatever its metadata


def _strip(width: int, height: int) -> bytes:
    return encode(quadrant_image(width, height), "png")


def _palette_trns() -> bytes:
    return encode(quadrant_image(40, 30, alpha=True), "png", palette=True, colours=16)


def _sixteen_bit() -> bytes:
    image = (quadrant_image(40, 30, alpha=True).cast("ushort") * 257).copy(interpretation="rgb16")
    return encode(image, "png", bitdepth=16)


def _grey_sixteen() -> bytes:
    grey = (pyvips.Image.xyz(40, 30)[0] * 1600).cast("ushort").copy(interpretation="grey16")
    return encode(grey, "png", bitdepth=16)


def _cmyk() -> bytes:
    rgb = quadrant_image(40, 30)
    cmyk = (255 - rgb).bandjoin(pyvips.Image.black(40, 30)).cast("uchar")
    return encode(cmyk.copy(interpretation="cmyk"), "jpeg")


def _frames_at_limit() -> bytes:
    """An animated GIF of exactly `max_frames` (100) frames."""
    upright, turned = quadrant_image(16, 12), quadrant_image(16, 12).rot180()
    return animation([turned if i % 2 else upright for i in range(100)], "gif", [20] * 100)


def _metadata_bomb(kind: str, size: int | None = None) -> bytes:
    base, size = quadrant_bytes(64, 48, "png"), size or METADATA_BOMBS[kind]
    if kind == "ztxt":
        chunk = png_chunk(b"zTXt", b"Comment\x00\x00" + zeros_zlib(size))
    else:
        profile = zeros_zlib(size - 132, icc_header(size))
        chunk = png_chunk(b"iCCP", b"icc\x00\x00" + profile)
    return with_chunk(base, chunk)


SOURCES: dict[str, Callable[[], bytes]] = {
    "strip-1x16000": lambda: _strip(1, 16000),
    "strip-16000x1": lambda: _strip(16000, 1),
    "strip-16384x1": lambda: _strip(16384, 1),  # max_side exactly
    "one-pixel-png": lambda: quadrant_bytes(1, 1, "png"),
    "one-pixel-jpeg": lambda: quadrant_bytes(1, 1, "jpeg"),
    "one-pixel-gif": lambda: quadrant_bytes(1, 1, "gif"),
    "one-pixel-webp": lambda: quadrant_bytes(1, 1, "webp"),
    "palette-trns-png": _palette_trns,
    "rgba-16bit-png": _sixteen_bit,
    "grey-16bit-png": _grey_sixteen,
    "cmyk-jpeg": _cmyk,
    "exif-loop-jpeg": lambda: after_soi(quadrant_bytes(40, 30, "jpeg"), exif_loop_app1()),
}


ANIMATED: dict[str, Callable[[], bytes]] = {"gif-100-frames": _frames_at_limit}


@cache
def source(name: str) -> bytes:
    return (SOURCES | ANIMATED)[name]()


# Pipelines every source goes through: each answer must be 200 or 400.
PIPELINES = [
    "resize/60000x60000!",
    "resize/65535x",
    "resize/x65535",
    "resize/1000%",
    "resize/@1",
    "resize/0.000001%",
    "resize/500x500^",
    "rotate/33.3",
    "rotate/-0.000001",
    "rotate/359.999999",
    "rotate/45/background/ff000080",
    "rotate/90/flip/hv/rotate/-270",
    "pad/500x500",
    "pad/501x500",
    "pad/1x1",
    "dpr/4/resize/500x",
    "dpr/4/pad/125x125",
    "dpr/4/pad/126x125",
    "dpr/4/crop/16000x16000+3+3",
    "crop/16000x1+0+0",
    "crop/1x1+15999+15999",
    "crop/se1x1",
    "crop/smart8x8",
    "filter/sepia/filter/invert/filter/grayscale",
    "sharpen/50",
    "blur/0.1",
    "format/avif/quality/1",
    "format/webp/quality/100",
    "format/gif",
    "format/jpeg/background/00000000",
    "format/png",
    "preset/thumb",
    "resize/1x1!/format/avif",
]


# The animation at the frame limit goes through pipelines that keep every frame small.
ANIMATED_PIPELINES = [
    "resize/@1",
    "resize/32x",
    "rotate/33.3",
    "flip/hv/rotate/90",
    "pad/40x40/background/00ff0080",
    "crop/se8x8",
    "crop/smart8x8",
    "filter/sepia",
    "blur/0.1",
    "format/webp",
    "format/png",
    "preset/thumb/format/avif",
]


def get(client: FlaskClient, digest: str, pipeline: str) -> TestResponse:
    return client.get(f"/image/{digest}/{pipeline}")


def uploaded(client: FlaskClient, data: bytes) -> str:
    response = client.post("/upload", data=data, content_type="application/octet-stream")
    assert response.status_code == 201, describe(response)
    return str(response.get_json()["hash"])


@pytest.fixture
def render_client(tmp_path: Path, engine_name: str) -> FlaskClient:
    settings = hostile_settings(
        tmp_path / "data",
        engine_name,
        max_output_pixels=MAX_OUTPUT_PIXELS,
        max_animation_pixels=MAX_ANIMATION_PIXELS,
        cache="none",
    )
    return create_app(settings).test_client()


@pytest.mark.parametrize("name", [*SOURCES, *ANIMATED])
def test_every_pipeline_is_200_or_400(name: str, render_client: FlaskClient) -> None:
    digest = uploaded(render_client, source(name))
    wrong = {}
    for pipeline in ANIMATED_PIPELINES if name in ANIMATED else PIPELINES:
        response = get(render_client, digest, pipeline)
        if response.status_code == 400:
            assert_error(response, 400, None)
        elif response.status_code != 200:
            wrong[pipeline] = describe(response)
    assert not wrong, wrong
    assert_healthy(render_client)


# (source, pipeline, status): answers docs/api.md pins down.
EXACT = [
    ("strip-16000x1", "resize/60000x60000!", 400),  # output over the limit
    ("strip-1x16000", "resize/65535x", 400),  # 65535 x 1048560000
    ("strip-16000x1", "rotate/45", 400),  # an 11314 px square canvas
    ("strip-16000x1", "rotate/0.001", 200),
    ("strip-16000x1", "crop/1x1+15999+0", 200),
    ("strip-16000x1", "dpr/4/crop/16000x16000+0+0", 200),  # clipped to the image
    ("strip-16384x1", "resize/100x", 200),  # a source at max_side renders
    ("strip-16384x1", "flip/h", 200),
    ("one-pixel-png", "pad/500x500", 200),
    ("one-pixel-png", "pad/501x500", 400),
    ("one-pixel-png", "dpr/4/pad/125x125", 200),
    ("one-pixel-png", "dpr/4/pad/126x125", 400),
    ("one-pixel-png", "resize/65535x1!", 200),
    ("gif-100-frames", "crop/smart8x8", 400),  # smart crop of an animation
    ("gif-100-frames", "crop/smart8x8/format/png", 200),
    # 100 frames of 320x240 are 7.7 MP of output: over both the output and animation limits
    ("gif-100-frames", "resize/320x", 400),
    ("gif-100-frames", "resize/320x/format/png", 200),  # one frame
    # outputs the format cannot hold: WebP sides stop at 16383, JPEG and GIF at 65535
    ("strip-16000x1", "resize/16384x1!/format/webp", 400),
    ("strip-16000x1", "resize/65535x1!/format/jpeg", 400),
    ("one-pixel-png", "resize/16384x1!/format/webp", 400),
    ("one-pixel-png", "pad/16384x1/format/webp", 400),
    ("one-pixel-png", "resize/1x65535!/format/jpeg", 400),
    ("one-pixel-png", "resize/65535x1!/format/avif", 400),
]


@pytest.mark.parametrize(("name", "pipeline", "status"), EXACT)
def test_exact_answers(name: str, pipeline: str, status: int, render_client: FlaskClient) -> None:
    digest = uploaded(render_client, source(name))
    response = get(render_client, digest, pipeline)
    if status == 200:
        assert response.status_code == 200, describe(response)
    else:
        assert_error(response, status, None)


@pytest.mark.parametrize("kind", ["ztxt", "iccp"])
def test_metadata_bombs_are_refused_before_any_decoder(
    kind: str, render_client: FlaskClient
) -> None:
    """A 64x48 PNG carrying 64 or 256 MiB of deflated metadata is a 413, found fast."""
    started = time.monotonic()
    response = render_client.post("/upload", data=_metadata_bomb(kind), content_type="image/png")
    elapsed = time.monotonic() - started
    assert_error(response, 413, None)
    assert elapsed < METADATA_BUDGET, f"{elapsed:.2f} s to refuse a 64x48 image"


@pytest.mark.parametrize("kind", ["ztxt", "iccp"])
def test_metadata_within_the_bound_renders_fast_and_small(
    kind: str, render_client: FlaskClient
) -> None:
    """1 MiB of metadata is allowed; the 64x48 image still renders like one, without it."""
    digest = uploaded(render_client, _metadata_bomb(kind, 1 << 20))
    started = time.monotonic()
    response = get(render_client, digest, "resize/32x")
    elapsed = time.monotonic() - started
    assert response.status_code == 200, describe(response)
    assert elapsed < METADATA_BUDGET, f"{elapsed:.2f} s to render a 64x48 image"
    assert len(response.data) < 64 * 1024, f"the output carries {len(response.data)} bytes"


def test_a_large_blur_within_limits_renders(tmp_path: Path, engine_name: str) -> None:
    client = create_app(hostile_settings(tmp_path / "data", engine_name)).test_client()
    digest = uploaded(client, quadrant_bytes(800, 600, "jpeg"))
    response = get(client, digest, "blur/50")
    assert response.status_code == 200, describe(response)
    assert response.mimetype == "image/jpeg"


RENDER_TIMEOUT = 0.5


def test_a_render_over_the_time_limit_is_a_quick_503_and_the_app_lives_on(
    tmp_path: Path, engine_name: str
) -> None:
    settings = hostile_settings(tmp_path / "data", engine_name, render_timeout=RENDER_TIMEOUT)
    client = create_app(settings).test_client()
    digest = uploaded(client, quadrant_bytes(4000, 3000, "jpeg"))

    for _ in range(2):  # the 503 is not cached: the second try is cut off again
        started = time.monotonic()
        response = get(client, digest, "blur/50")
        elapsed = time.monotonic() - started
        assert_error(response, 503, "render_timeout")
        assert elapsed < RENDER_TIMEOUT + 2.0, f"cut off after {elapsed:.2f} s"

    assert_healthy(client)
    assert get(client, digest, "resize/100x").status_code == 200
    assert not temp_files(settings.data_dir)
    cached = [name for name in files_under(settings.data_dir) if name.startswith("cache/")]
    assert len(cached) == 1, cached  # the variant that rendered, not the one cut off
