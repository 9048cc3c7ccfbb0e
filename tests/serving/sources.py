"""Sources that are slow to render on purpose, made on the spot."""

from __future__ import annotations

import pyvips


def noisy_webp(width: int, height: int) -> bytes:
    """Colour noise as a WebP: nothing for an encoder to find, so AVIF takes its longest
    (4000x2667 at quality 100 takes libaom 4.8 s at the server's effort on an idle 2-core
    machine, 2400x1600 only 2 s, measured)."""
    bands = [pyvips.Image.gaussnoise(width, height, sigma=25, mean=128, seed=i) for i in range(3)]
    image = bands[0].bandjoin(bands[1:]).cast("uchar").copy(interpretation="srgb")
    return bytes(image.webpsave_buffer(Q=70, effort=0))
