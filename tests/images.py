"""Test images made on the fly with libvips: small, deterministic, and asymmetric.

Each quadrant has its own colour (red, green, blue, white from top-left, clockwise), so a
wrong flip, rotation or crop shows up in pixels, not only in sizes.
"""

from __future__ import annotations

import io
from pathlib import Path

import pillow_heif
import pyvips

from images_server.decoders import jxl as jxl_decoder
from images_server.engines import jxl_encode
from images_server.formats import jxl

SAMPLES = Path(__file__).resolve().parents[1] / "samples"  # the real photos that ship with the repo

QUADRANTS = {"nw": (255, 0, 0), "ne": (0, 255, 0), "se": (0, 0, 255), "sw": (255, 255, 255)}


def quadrant_image(width: int, height: int, alpha: bool = False) -> pyvips.Image:
    x = pyvips.Image.xyz(width, height)[0]
    y = pyvips.Image.xyz(width, height)[1]
    right = x >= width / 2
    bottom = y >= height / 2
    image = (
        (~right & ~bottom).ifthenelse(QUADRANTS["nw"], [0, 0, 0])
        + (right & ~bottom).ifthenelse(QUADRANTS["ne"], [0, 0, 0])
        + (right & bottom).ifthenelse(QUADRANTS["se"], [0, 0, 0])
        + (~right & bottom).ifthenelse(QUADRANTS["sw"], [0, 0, 0])
    )
    image = image.cast("uchar").copy(interpretation="srgb")
    if alpha:
        image = image.bandjoin((x * 255 / max(width - 1, 1)).cast("uchar"))
    return image


def encode(image: pyvips.Image, fmt: str, **options: object) -> bytes:
    """`image` as `fmt`; JPEG XL through the server's own encoder (libvips here writes none),
    lossless unless `Q` says otherwise."""
    if fmt == "jxl":
        pixels = image.cast("uchar").write_to_memory()
        quality = int(str(options.get("Q", jxl_encode.LOSSLESS)))
        return jxl_encode.encode(pixels, image.width, image.height, image.bands, quality)
    suffix = {"jpeg": ".jpg"}.get(fmt, f".{fmt}")
    return bytes(image.write_to_buffer(suffix, **options))


def quadrant_bytes(width: int, height: int, fmt: str = "png", alpha: bool = False) -> bytes:
    return encode(quadrant_image(width, height, alpha), fmt)


def decode(data: bytes) -> pyvips.Image:
    """`data` decoded by libvips; JPEG XL by the server's shared decoder (no libvips loader)."""
    if jxl.matches(data[:32]):
        return jxl_decoder.pixels(data)
    return pyvips.Image.new_from_buffer(data, "")


def pixel(data_or_image: bytes | pyvips.Image, x: int, y: int) -> list[float]:
    image = decode(data_or_image) if isinstance(data_or_image, bytes) else data_or_image
    return list(image(x, y))


def near(actual: list[float], expected: tuple[int, ...], tolerance: float = 40) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=False))


def animation(frames: list[pyvips.Image], fmt: str, delays: list[int], loop: int = 0) -> bytes:
    """An animated GIF or WebP of `frames` (all of one size), with `delays` in milliseconds."""
    strip = pyvips.Image.arrayjoin(frames, across=1).copy()
    strip.set_type(pyvips.GValue.gint_type, "page-height", frames[0].height)
    strip.set_type(pyvips.GValue.array_int_type, "delay", delays)
    strip.set_type(pyvips.GValue.gint_type, "loop", loop)
    return encode(strip, fmt, **({"lossless": True} if fmt == "webp" else {}))


def decode_frames(data: bytes) -> list[pyvips.Image]:
    """Every frame of a GIF or WebP, in order."""
    strip = pyvips.Image.new_from_buffer(data, "", n=-1)
    height = strip.get("page-height") if strip.get_typeof("page-height") else strip.height
    return [strip.crop(0, top, strip.width, height) for top in range(0, strip.height, height)]


def animation_timing(data: bytes) -> tuple[list[int], int]:
    """The delays (milliseconds) and loop count of a GIF or WebP animation."""
    strip = pyvips.Image.new_from_buffer(data, "", n=-1)
    return list(strip.get("delay")), int(strip.get("loop"))


def heic(image: pyvips.Image, quality: int = 90, **options: object) -> bytes:
    """`image` (8-bit RGB or RGBA) encoded as HEIC by pillow-heif's x265 encoder (libvips'
    own HEIF saver has no HEVC encoder); `options` go to pillow-heif's `save` (`exif=...`)."""
    mode = "RGBA" if image.bands == 4 else "RGB"
    size = (image.width, image.height)
    heif = pillow_heif.from_bytes(mode=mode, size=size, data=bytes(image.write_to_memory()))
    out = io.BytesIO()
    heif.save(out, quality=quality, **options)
    return out.getvalue()
