"""Real-world SVGs (`samples/svg/`): accepted, and the sanitizer loses nothing they draw:
the rebuilt document renders the same pixels as librsvg renders the untouched file."""

from __future__ import annotations

import hashlib

import pytest
import pyvips

from images_server.decoders import decode
from images_server.decoders.svg_sanitize import sanitize
from images_server.formats.sniff import sniff
from tests.images import SAMPLES

SVG_SAMPLES = SAMPLES / "svg"
SIZES = {
    "icon-bootstrap.svg": (16, 16),
    "flag-nicaragua-4x3.svg": (640, 480),
    "flag-guatemala-4x3.svg": (640, 480),
}


def test_the_samples_are_the_ones_listed() -> None:
    listed = {}
    for line in (SVG_SAMPLES / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        listed[name] = digest
    assert set(listed) == set(SIZES) == {path.name for path in SVG_SAMPLES.glob("*.svg")}
    for name, digest in listed.items():
        assert hashlib.sha256((SVG_SAMPLES / name).read_bytes()).hexdigest() == digest


@pytest.mark.parametrize("name", SIZES)
def test_sanitized_sample_draws_as_the_original(name: str) -> None:
    data = (SVG_SAMPLES / name).read_bytes()
    info = sniff(data)
    assert (info.format, (info.width, info.height)) == ("svg", SIZES[name])

    untouched = pyvips.Image.svgload_buffer(data, scale=2)
    drawn = pyvips.Image.svgload_buffer(sanitize(data, info.width, info.height), scale=2)

    assert (drawn.width, drawn.height) == (untouched.width, untouched.height)
    assert (drawn - untouched).abs().max() == 0
    assert decode(data, info).avg() > 0  # the decoder path: not blank
