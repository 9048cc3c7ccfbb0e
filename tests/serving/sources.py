"""Sources that are slow to render on purpose, made on the spot."""

from __future__ import annotations

import pyvips


def noisy_webp(width: int, height: int) -> bytes:
    """Colour noise as a WebP: nothing for an encoder to find, so AVIF takes its longest
    (2400x1600 at quality 100 takes libaom about 5 s at the server's effort, measured)."""
    bands = [pyvips.Image.gaussnoise(width, height, sigma=25, mean=128, seed=i) for i in range(3)]
    image = bands[0].bandjoin(bands[1:]).cast("uchar").copy(interpretation="srgb")
    return bytes(image.webpsave_buffer(Q=70, effort=0))
