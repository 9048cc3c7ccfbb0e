"""A render past its time budget is stopped in-process (503), and the engine works on.

The pipeline is legal but slow: a 12 MP photo enlarged, blurred with sigma 40 and turned by
an odd angle takes 14 s or more uncut on this machine. With a 0.3 s budget both engines must
give up well under two seconds (the cut lands inside libvips' or ImageMagick's own loops).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import pyvips

from images_server.engines import build_engine
from images_server.engines.base import Output
from images_server.engines.deadline import GRACE, Deadline, finish_within
from images_server.errors import RenderTimeout
from images_server.formats import served_format
from images_server.formats.sniff import sniff
from images_server.pipeline.parse import parse_pipeline
from images_server.pipeline.plan import make_plan
from images_server.pipeline.steps import resolve

SLOW = "resize/6000x/blur/40/rotate/33"


def _render(engine_name: str, data: bytes, path: str, seconds: float | None) -> bytes:
    engine = build_engine(engine_name)
    info = sniff(data)
    plan = make_plan(parse_pipeline(path, max_ops=10))
    resolved = resolve(plan.ops, info.width, info.height, 10**9)
    output = Output(plan.output_format(served_format(info.format, info.has_alpha)), 80)
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


def _noisy(width: int, height: int) -> Any:
    bands = [pyvips.Image.gaussnoise(width, height, sigma=25, mean=128, seed=i) for i in range(3)]
    return bands[0].bandjoin(bands[1:]).cast("uchar").copy(interpretation="srgb").copy_memory()


def test_an_encoder_that_cannot_be_stopped_is_answered_at_the_deadline() -> None:
    """libaom never looks at libvips' kill flag: `finish_within` answers on time anyway, and
    calls `then` only once the abandoned encode has really ended."""
    image = _noisy(1600, 1200)
    encoded = threading.Event()
    released = threading.Event()

    def encode() -> bytes:
        body = bytes(image.heifsave_buffer(Q=60, compression="av1", effort=2, keep="none"))
        encoded.set()
        return body

    started = time.monotonic()
    with pytest.raises(RenderTimeout) as caught:
        finish_within(Deadline(0.2), encode, then=released.set)
    assert time.monotonic() - started < 0.2 + GRACE + 1.0
    assert caught.value.retry_after == 1
    assert not released.is_set()  # the encoder still runs, and still holds its slot
    assert released.wait(120)
    assert encoded.is_set()


def test_finish_within_passes_results_and_errors_through() -> None:
    calls: list[str] = []
    assert finish_within(Deadline(10), lambda: 42, then=lambda: calls.append("then")) == 42

    def broken() -> int:
        raise ValueError("broken")

    with pytest.raises(ValueError, match="broken"):
        finish_within(Deadline(10), broken, then=lambda: calls.append("then"))
    assert finish_within(Deadline(None), lambda: 7, then=lambda: calls.append("then")) == 7
    assert calls == ["then", "then", "then"]


def test_stopping_calls_what_was_registered_once_the_budget_runs_out() -> None:
    deadline = Deadline(0.05)
    stopped = threading.Event()
    with deadline.stopping():
        deadline.on_expiry(stopped.set)
        assert stopped.wait(2)
        assert deadline.expired
    late: list[str] = []
    deadline.on_expiry(lambda: late.append("at once"))  # already expired: called now
    assert late == ["at once"]


def test_a_render_that_ends_in_time_leaves_no_timer_behind() -> None:
    before = threading.active_count()
    deadline = Deadline(0.2)
    called: list[str] = []
    with deadline.stopping():
        deadline.on_expiry(lambda: called.append("stop"))
        assert threading.active_count() == before + 1  # the timer
    time.sleep(0.4)
    assert threading.active_count() == before
    assert called == []  # the block ended first: nothing is stopped afterwards
