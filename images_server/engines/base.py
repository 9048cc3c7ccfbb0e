"""The `Engine` Protocol: decode, apply resolved steps, encode. Engines only move pixels.

Sizes and boxes arrive already computed (`pipeline.steps`), so engines never do geometry of
their own; each one conforms its result to the sizes it is given. Engines map their
library's errors at this boundary to `UndecodableImage` (422).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from images_server.decoders.target import Target
from images_server.engines.deadline import NO_DEADLINE, Deadline
from images_server.formats.sniff import SourceInfo
from images_server.pipeline.ops import OutputFormat, Rgba
from images_server.pipeline.steps import ResizeTo, Resolved

ALPHA_FORMATS: frozenset[OutputFormat] = frozenset({"png", "webp", "avif", "gif", "jxl"})
ANIMATED_FORMATS: frozenset[OutputFormat] = frozenset({"gif", "webp"})  # frames survive
# The longest side each format can hold (measured with libvips' encoders: WebP 16383,
# AVIF 16384 through libheif, libjpeg 65500; GIF and PNG store 16 and 31 bits; JPEG XL's
# codestream holds 2**30, but `engines.jxl_encode.MAX_PIXELS` bounds its area far sooner).
MAX_SIDE: dict[OutputFormat, int] = {
    "jpeg": 65500,
    "webp": 16383,
    "avif": 16384,
    "gif": 65535,
    "png": 2**31 - 1,
    "jxl": 2**30,
}
# JPEG outputs up to this many pixels get optimised Huffman tables, larger ones the standard
# tables (both engines). Measured with the libvips wheel's mozjpeg: optimising makes an
# 800x600 photo 1.5% smaller for 2 to 3 times its encode time (3.5 ms of a 12 MP → 800w
# render's 13), a 300 px one 2.5-3% smaller for 0.5 ms, and near quality 1, where the
# standard tables fit worst, much smaller; and it holds every coefficient in memory.
OPTIMIZED_JPEG_PIXELS = 250_000
FULL_CHROMA_FROM = 90  # JPEG quality from which chroma keeps its full resolution (4:4:4)


def optimised_jpeg_tables(width: int, height: int) -> bool:
    """Whether a JPEG output this large gets optimised Huffman tables (see above)."""
    return width * height <= OPTIMIZED_JPEG_PIXELS


TRANSPARENT: Rgba = (0, 0, 0, 0)
WHITE: Rgba = (255, 255, 255, 255)


@dataclass(frozen=True)
class Output:
    format: OutputFormat
    quality: int
    background: Rgba | None = None  # None: transparent where the format allows, else white
    progressive: bool = False  # JPEG only
    subsampled: bool | None = None  # JPEG's chroma at half resolution; None: by `quality`
    lossless: bool = False  # WebP only
    auto_quality: bool = False  # quality/auto: `engines.quality` chooses, `quality` unused
    max_bytes: int | None = None  # maxbytes/N: `engines.budget` searches 1..`quality`
    shrink_to_fit: bool = False  # maxbytes: smaller dimensions when quality 1 does not fit

    @property
    def chroma_subsampled(self) -> bool:
        """Whether a JPEG keeps its chroma at half resolution (4:2:0): below quality 90
        unless `subsampled` says."""
        return self.quality < FULL_CHROMA_FROM if self.subsampled is None else self.subsampled

    @property
    def has_alpha(self) -> bool:
        return self.format in ALPHA_FORMATS

    @property
    def fill(self) -> Rgba:
        """What rotate and pad fill the canvas with (before any flattening for JPEG)."""
        if self.background is not None:
            return self.background
        return TRANSPARENT if self.has_alpha else WHITE

    @property
    def flatten_on(self) -> Rgba:
        """What alpha is flattened onto when the format has none: the background, or white."""
        return self.background or WHITE


class Engine(Protocol):
    name: str
    version: str  # the library's version: part of every cache key

    def render(
        self,
        data: bytes,
        info: SourceInfo,
        resolved: Resolved,
        output: Output,
        deadline: Deadline = NO_DEADLINE,
    ) -> bytes:
        """Apply `resolved.steps` to the decoded, upright source and encode as `output`;
        `RenderTimeout` once `deadline` expires."""


def keeps_animation(info: SourceInfo, output: Output | OutputFormat) -> bool:
    """Whether every frame is rendered: an animated GIF or WebP going out as GIF or WebP."""
    out = output if isinstance(output, str) else output.format
    return info.frames > 1 and info.format in ANIMATED_FORMATS and out in ANIMATED_FORMATS


def target_of(resolved: Resolved) -> Target | None:
    """What a shared decoder is told to draw or reduce to: the leading resize's size."""
    resize = first_resize(resolved)
    return Target(resize.width, resize.height) if resize is not None else None


def first_resize(resolved: Resolved) -> ResizeTo | None:
    """The leading resize, which engines may fold into decoding (shrink-on-load)."""
    if resolved.steps and isinstance(resolved.steps[0], ResizeTo):
        return resolved.steps[0]
    return None
