"""SSIM for the benchmarks: the server's own metric (`images_server.engines.quality.ssim`, the
one `quality/auto` chooses by), so a benchmark measures what the server aims at."""

from __future__ import annotations

import pyvips

from images_server.engines.quality import ssim

__all__ = ["ssim", "ssim_bytes"]


def ssim_bytes(a: bytes, b: bytes) -> float:
    return ssim(pyvips.Image.new_from_buffer(a, ""), pyvips.Image.new_from_buffer(b, ""))
