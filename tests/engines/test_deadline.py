"""A render past its time budget is stopped in-process (503), and the engine works on.

The pipeline is legal but slow: a 12 MP photo enlarged, blurred with sigma 40 and turned by
an odd angle takes 14 s or more uncut on this machine. With a 0.3 s budget both engines must
give up well under two seconds (the cut lands inside libvips' or ImageMagick's own loops).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from images_server.engines import build_engine
from images_server.engines.base import Output
from images_server.engines.deadline import Deadline
from images_server.engines.sniff import sniff
from images_server.errors import RenderTimeout
from images_server.pipeline.parse import parse_pipeline
from images_server.pipeline.plan import make_plan
from images_server.pipeline.steps import resolve

SLOW = "resize/6000x/blur/40/rotate/33"


def _render(engine_name: str, data: bytes, path: str, seconds: float | None) -> bytes:
    engine = build_engine(engine_name)
    info = sniff(data)
    plan = make_plan(parse_pipeline(path, max_ops=10))
    resolved = resolve(plan.ops, info.width, info.height, 10**9)
    output = Output(plan.output_format(info.format), 80)
    return engine.render(data, info, resolved, output, Deadline(seconds))


def test_a_slow_render_is_cut_off_and_the_engine_works_on(engine_name: str, samples: Path) -> None:
    data = (samples / "photo-12mp-4000x3000.jpg").read_bytes()
    started = time.monotonic()
    with pytest.raises(RenderTimeout) as caught:
        _render(engine_name, data, SLOW, seconds=0.3)
    assert time.monotonic() - started < 2.0
    assert caught.value.status == 503
    assert caught.value.code == "render_timeout"
    assert sniff(_render(engine_name, data, "resize/200x", seconds=10)).width == 200


def test_no_deadline_is_free(engine_name: str, samples: Path) -> None:
    data = (samples / "photo-1mp-1200x900.jpg").read_bytes()
    assert sniff(_render(engine_name, data, "blur/2/resize/300x", seconds=None)).width == 300
