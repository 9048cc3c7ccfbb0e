"""Both imaging libraries refuse what they must, as set up by `engines.hardening`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import pyvips

from images_server.engines.wand import WandEngine
from tests.images import encode, quadrant_image

PAYLOADS = {
    "mvg": b"push graphic-context\nviewbox 0 0 640 480\n"
    b"image over 0,0 0,0 'https://127.0.0.1/x.jpg'\npop graphic-context\n",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
    b'<image xlink:href="file:///etc/passwd"/></svg>',
    "msl": b'<?xml version="1.0"?><image><read filename="/etc/passwd"/></image>',
    "ps": b"%!PS-Adobe-3.0\n/Times findfont 20 scalefont setfont 10 10 moveto (x) show showpage\n",
    "eps": b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n",
    "pdf": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
    "txt": b"hello",
    "label": b"label:hello",
    "bmp": encode(quadrant_image(4, 4), "png"),
}  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def wand_engine() -> WandEngine:
    return WandEngine()  # loads ImageMagick with the policy, and checks it took


@pytest.mark.parametrize("coder", sorted(PAYLOADS))
def test_imagemagick_refuses_every_other_coder(coder: str) -> None:
    from wand.exceptions import PolicyError
    from wand.image import Image

    with pytest.raises(PolicyError), Image(blob=PAYLOADS[coder], format=coder):
        pass


@pytest.mark.parametrize(
    "filename",
    ["@/etc/passwd", "https://127.0.0.1/x.png", "http://127.0.0.1/x.png",
     "msl:/tmp/x.msl", "text:/etc/passwd", "label:hello"],
)  # fmt: skip
def test_imagemagick_refuses_indirect_reads(filename: str) -> None:
    from wand.exceptions import PolicyError
    from wand.image import Image

    with pytest.raises(PolicyError), Image(filename=filename):
        pass


def test_imagemagick_refuses_ephemeral_reads(tmp_path: Path) -> None:
    """(Debian's ImageMagick 6.9.11 does not know `ephemeral:` at all; the policy would
    refuse it where it does.) What matters: the read fails and the file survives."""
    from wand.exceptions import WandException
    from wand.image import Image

    target = tmp_path / "x.png"
    target.write_bytes(encode(quadrant_image(4, 4), "png"))
    with pytest.raises(WandException), Image(filename=f"ephemeral:{target}"):
        pass
    assert target.exists()  # ephemeral: would have deleted it after reading


def test_imagemagick_resource_limits() -> None:
    from wand.resource import limits

    assert limits["width"] == 65_535
    assert limits["height"] == 65_535
    assert limits["area"] == 128_000_000
    assert limits["memory"] == 256 * 1024**2
    assert limits["map"] == 512 * 1024**2
    assert limits["disk"] == 1024**3
    assert limits["thread"] == 1


def test_the_policy_does_not_leak_into_child_processes(convert: str) -> None:
    assert "MAGICK_CONFIGURE_PATH" not in os.environ
    done = subprocess.run([convert, "-size", "2x2", "xc:red", "png:-"], capture_output=True)
    assert done.returncode == 0  # `xc:` is refused by our policy, not by the system's


def test_the_wand_engine_refuses_to_start_without_its_policy() -> None:
    code = "import wand.image; from images_server.engines.wand import WandEngine; WandEngine()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode != 0
    assert "security policy is not active" in done.stderr


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "gif", "avif"])
def test_libvips_loads_the_five_formats(fmt: str) -> None:
    image = pyvips.Image.new_from_buffer(encode(quadrant_image(8, 6), fmt), "")
    assert (image.width, image.height) == (8, 6)


def test_libvips_blocks_every_other_loader() -> None:
    """SVG's buffer loader is allowed for `decoders.svg`, which hands it sanitized documents
    only (sniff routes every SVG there); its file and source loaders stay blocked."""
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
    with pytest.raises(pyvips.Error, match="blocked"):
        pyvips.Image.svgload_source(pyvips.Source.new_from_memory(svg))
    with pytest.raises(pyvips.Error, match="blocked"):
        pyvips.Image.csvload_source(pyvips.Source.new_from_memory(b"1,2\n3,4\n"))
    with pytest.raises(pyvips.Error):
        pyvips.Image.new_from_buffer(b"P2\n1 1\n255\n0\n", "").avg()  # PGM: no loader
