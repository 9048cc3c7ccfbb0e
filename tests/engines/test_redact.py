"""`redact/…` on each engine: the boxes come from Python, the engine only blurs or pixelates
them, so both give the pixels these tests compute on their own (cell means, the engine's own
`blur` of the same region) and leave every other pixel as it was."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest
import pyvips

from images_server.caches.null import NullCache
from images_server.engines import build_engine
from images_server.hashing import original_ref
from images_server.pipeline.focus import ImageHints
from images_server.pipeline.parse import parse_pipeline
from images_server.pipeline.plan import make_plan
from images_server.render import render
from images_server.security.fetch import FetchPolicy
from images_server.services import Services
from images_server.settings import Settings
from images_server.storages.memory import MemoryStorage
from tests.images import decode
from tests.spine import Spine

PORTRAIT = "faces-astronaut-512x512.png"
HintedSpine = Callable[[bytes, str, ImageHints], bytes]


@pytest.fixture
def hinted(engine_name: str) -> HintedSpine:
    """The render path with an image's facts, as `/image` gives them from its row."""
    storage = MemoryStorage()
    services = Services(
        settings=Settings(engine=engine_name),
        storage=storage,
        cache=NullCache(),
        engine=build_engine(engine_name),
        fetch_policy=FetchPolicy(),
    )

    def run(data: bytes, path: str, hints: ImageHints) -> bytes:
        ref = original_ref(data)
        storage.put(ref, data)
        plan = make_plan(parse_pipeline(path, max_ops=10)).with_hints(hints)
        return render(services, ref, plan).body

    return run


def _diff(a: pyvips.Image, b: pyvips.Image) -> pyvips.Image:
    return (a.cast("int") - b.cast("int")).abs()


def _outside_unchanged(out: pyvips.Image, source: pyvips.Image, box: tuple[int, ...]) -> None:
    x, y, w, h = box
    mask = pyvips.Image.black(out.width, out.height).draw_rect(255, x, y, w, h, fill=True)
    outside = (mask == 0).ifthenelse(_diff(out, source), 0)
    assert outside.max() == 0
    assert _diff(out, source).crop(x, y, w, h).avg() > 5  # and the box did change


def _cells_are_means(out: pyvips.Image, source: pyvips.Image, box: tuple[int, ...]) -> None:
    x, y, w, h = box
    cell = max(4, math.ceil(max(w, h) / 8))
    for top in range(y, y + h, cell):
        for left in range(x, x + w, cell):
            size = min(cell, x + w - left), min(cell, y + h - top)
            got = out.crop(left, top, *size)
            assert _diff(got, got.new_from_image(got(0, 0))).max() == 0  # one colour a cell
            expected = source.crop(left, top, *size).stats()
            mean = [expected(4, band + 1)[0] for band in range(source.bands)]
            # ImageMagick averages its 16-bit pixels, not the 8-bit ones written: 1.5 apart
            assert all(abs(g - m) <= 1.5 for g, m in zip(got(0, 0), mean, strict=True))


def test_a_region_is_pixelated_into_cells_of_its_mean(spine: Spine, samples: Path) -> None:
    data = (samples / PORTRAIT).read_bytes()
    box = (100, 100, 190, 150)  # cells of 24 px: the last column is 22 wide, the last row 6
    out = decode(spine(data, "redact/100,100,190,150,pixelate/format/png"))
    source = decode(data)
    _outside_unchanged(out, source, box)
    _cells_are_means(out, source, box)


def test_a_region_is_blurred_as_the_blur_op_blurs_it_alone(spine: Spine, samples: Path) -> None:
    data = (samples / PORTRAIT).read_bytes()
    out = decode(spine(data, "redact/300,40,160,96/format/png"))
    source = decode(data)
    _outside_unchanged(out, source, (300, 40, 160, 96))
    alone = decode(spine(data, "crop/160x96+300+40/blur/20/format/png"))  # sigma 160 / 8
    assert _diff(out.crop(300, 40, 160, 96), alone).max() <= 1


def test_every_face_is_redacted_where_the_steps_took_it(hinted: HintedSpine, samples: Path) -> None:
    data = (samples / PORTRAIT).read_bytes()
    labelled = json.loads((samples / "faces.json").read_text())[PORTRAIT]
    hints = ImageHints(faces=tuple((x / 512, y / 512, w / 512, h / 512) for x, y, w, h in labelled))
    plain = decode(hinted(data, "resize/256x/flip/h/format/png", hints))
    out = decode(hinted(data, "resize/256x/flip/h/redact/faces,pixelate/format/png", hints))
    # the face (175, 65, 100, 105) halved and mirrored: x 118.5..168.5, y 32.5..85; grown by
    # a fifth of its size each side and rounded outwards
    box = (108, 22, 71, 74)
    _outside_unchanged(out, plain, box)
    _cells_are_means(out, plain, box)
    blurred = decode(hinted(data, "resize/256x/flip/h/redact/faces/format/png", hints))
    _outside_unchanged(blurred, plain, box)
