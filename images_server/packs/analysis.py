"""What a pack's source is: size, format, alpha, aspect ratio, and photo or graphic.

Photo or graphic is decided on the image's `sample` (`images_server.metadata`: a 128-pixel
thumbnail flattened on white, whose BlurHash and dominant colour are also those of
`/metadata`): a graphic (logo, chart, screenshot, flat illustration) has few distinct colours
or a low-entropy luminance histogram; a photo has thousands of colours and a histogram near
7-8 bits. On the project's test photos the 5-bit colour count is 567-1,692 and the entropy
6.8-7.6; a rendered scene on a plain background, text and flat shapes fall below both
thresholds.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

import pyvips

from images_server.formats.sniff import sniff
from images_server.metadata import sample

Kind = Literal["photo", "graphic"]

GRAPHIC_MAX_COLOURS = 300  # distinct colours at 5 bits a channel
GRAPHIC_MAX_ENTROPY = 5.0  # bits, of the luminance histogram
_COMMON_RATIOS = {
    "1:1": 1.0,
    "4:3": 4 / 3,
    "3:2": 1.5,
    "16:9": 16 / 9,
    "1.91:1": 1.91,
    "2:1": 2.0,
    "21:9": 21 / 9,
    "3:4": 3 / 4,
    "2:3": 2 / 3,
    "9:16": 9 / 16,
    "4:5": 0.8,
}


@dataclass(frozen=True)
class Analysis:
    width: int
    height: int
    format: str
    has_alpha: bool
    frames: int
    bytes: int
    aspect_ratio: float
    aspect_label: str
    kind: Kind
    colours: int
    entropy: float
    placeholder: str
    dominant_color: str

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def aspect_label(width: int, height: int) -> str:
    """The common ratio within 2 % of width:height (e.g. `16:9`), else the reduced ratio."""
    ratio = width / height
    for label, value in _COMMON_RATIOS.items():
        if abs(ratio - value) / value <= 0.02:
            return label
    divisor = math.gcd(width, height)
    return f"{width // divisor}:{height // divisor}"


def analyse(data: bytes, decoded: pyvips.Image | None = None) -> Analysis:
    """The analysis of an image already admitted (checked and within limits; `decoded` as
    its check gave it, see `ingest.Checked`)."""
    info = sniff(data)
    summary = sample(data, info, decoded)
    pixels = bytes(summary.image.write_to_memory())
    colours = len(
        {(pixels[i] >> 3, pixels[i + 1] >> 3, pixels[i + 2] >> 3) for i in range(0, len(pixels), 3)}
    )
    entropy = float(summary.image.colourspace("b-w").hist_find().hist_entropy())
    graphic = colours < GRAPHIC_MAX_COLOURS or entropy < GRAPHIC_MAX_ENTROPY
    return Analysis(
        width=info.width,
        height=info.height,
        format=info.format,
        has_alpha=info.has_alpha,
        frames=info.frames,
        bytes=len(data),
        aspect_ratio=round(info.width / info.height, 4),
        aspect_label=aspect_label(info.width, info.height),
        kind="graphic" if graphic else "photo",
        colours=colours,
        entropy=round(entropy, 2),
        placeholder=summary.placeholder,
        dominant_color=summary.dominant_color,
    )
