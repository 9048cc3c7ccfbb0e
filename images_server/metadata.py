"""What `GET /image/<hash>/metadata` says about an image (docs/api.md §2, §5), without Flask.

`describe` combines the header facts of `sniff` (displayed size, format, frames, alpha,
orientation) with what libvips reads from the header alone (colour space, EXIF), then takes
the image's `sample`: one 128-pixel thumbnail, its BlurHash placeholder and dominant colour,
the very values a pack's analysis gives for the same image. EXIF goes through an
allow-list: only camera make and model, lens model, exposure, aperture, ISO, focal length,
taken-at time, orientation and software are ever read, so GPS, serial numbers, owner and
artist names, maker notes and thumbnails cannot leak through a tag nobody thought of. The
BlurHash encoder follows the public specification (github.com/woltapp/blurhash, Algorithm.md).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from fractions import Fraction

import pyvips

from images_server import decoders
from images_server.errors import UndecodableImage
from images_server.formats import MEDIA_TYPES
from images_server.formats.sniff import SourceInfo, sniff

SAMPLE_SIZE = 128
PLACEHOLDER_SIZE = 32
BLURHASH_COMPONENTS = (4, 3)
_MAX_TEXT = 128

# libvips (libexif) renders a tag as "<raw> (<human>, <Type>, <n> components, <m> bytes)".
# An ASCII tag repeats its raw text as the human one, which may itself hold " (".
_ASCII_TAG = re.compile(r"(?s)(.*) \(\1, ASCII, \d+ components, \d+ bytes\)")
_OTHER_TAG = re.compile(r"(?s)(.*?) \(.*, \w+, \d+ components, \d+ bytes\)")


@dataclass(frozen=True)
class ImageFacts:
    """What `/metadata` says of an image, in the order it says it (`to_json`)."""

    width: int  # as displayed: after the EXIF orientation
    height: int
    format: str
    mime: str
    bytes: int
    has_alpha: bool
    frames: int
    orientation: int  # the EXIF orientation still to apply when decoding
    color_space: str
    exif: dict[str, object]  # the allow-listed tags only (`safe_exif`)
    placeholder: str | None  # None only in rows older than placeholders
    dominant_color: str | None

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def describe(data: bytes, decoded: pyvips.Image | None = None) -> ImageFacts:
    """The metadata of one image; raises like `sniff` on bad bytes. `decoded`: the pixels
    the upload check decoded (`ingest.Checked`), not decoded again."""
    info = sniff(data)
    try:
        header = decoders.header(data, info, decoded)
        summary = sample(data, info, decoded)
    except pyvips.Error as error:
        raise UndecodableImage("the image header cannot be read") from error
    return ImageFacts(
        width=info.width,
        height=info.height,
        format=info.format,
        mime=MEDIA_TYPES[info.format],
        bytes=len(data),
        has_alpha=info.has_alpha,
        frames=info.frames,
        orientation=info.orientation,
        color_space=str(header.interpretation),
        exif=safe_exif(header),
        placeholder=summary.placeholder,
        dominant_color=summary.dominant_color,
    )


# --- EXIF ------------------------------------------------------------------------------


def _tag(image: pyvips.Image, *names: str) -> str | None:
    """The raw text of the first of `names` (e.g. "ifd0-Make") the image has, or None."""
    for name in names:
        field = f"exif-{name}"
        if image.get_typeof(field) == 0:
            continue
        value = image.get(field)
        if not isinstance(value, str):
            continue
        match = _ASCII_TAG.fullmatch(value) or _OTHER_TAG.fullmatch(value)
        raw = (match.group(1) if match else value).strip().strip("\x00").strip()
        if raw:
            return raw
    return None


def _text(raw: str) -> str | None:
    printable = "".join(ch for ch in raw if ch.isprintable()).strip()
    return printable[:_MAX_TEXT] or None


def _rational(raw: str) -> Fraction | None:
    try:
        value = Fraction(raw.split()[0])
    except (ValueError, ZeroDivisionError, IndexError):
        return None
    return value if value > 0 else None


def _number(raw: str) -> float | None:
    value = _rational(raw)
    return round(float(value), 2) if value is not None else None


def _exposure(raw: str) -> str | None:
    """Exposure time as photographers write it: "1/40", "2.5"."""
    value = _rational(raw)
    if value is None:
        return None
    if value >= 1:
        return f"{float(value):g}"
    return f"1/{round(1 / value)}"


def _integer(raw: str) -> int | None:
    try:
        value = int(raw.split()[0])
    except (ValueError, IndexError):
        return None
    return value if value > 0 else None


def _orientation(raw: str) -> int | None:
    value = _integer(raw)
    return value if value is not None and 1 <= value <= 8 else None


def _timestamp(raw: str) -> str | None:
    try:
        return datetime.strptime(raw[:19], "%Y:%m:%d %H:%M:%S").isoformat()
    except ValueError:
        return None


# The allow-list: output key, libvips fields tried in order, and how to read the value.
_SAFE_TAGS: tuple[tuple[str, tuple[str, ...], Callable[[str], object | None]], ...] = (
    ("make", ("ifd0-Make",), _text),
    ("model", ("ifd0-Model",), _text),
    ("lens_model", ("ifd2-LensModel",), _text),
    ("exposure_time", ("ifd2-ExposureTime",), _exposure),
    ("f_number", ("ifd2-FNumber",), _number),
    ("iso", ("ifd2-ISOSpeedRatings", "ifd2-PhotographicSensitivity"), _integer),
    ("focal_length", ("ifd2-FocalLength",), _number),
    ("taken_at", ("ifd2-DateTimeOriginal",), _timestamp),
    ("orientation", ("ifd0-Orientation",), _orientation),
    ("software", ("ifd0-Software",), _text),
)


def safe_exif(image: pyvips.Image) -> dict[str, object]:
    """The allow-listed EXIF tags of `image` (opened by libvips), absent ones omitted."""
    exif: dict[str, object] = {}
    for key, names, read in _SAFE_TAGS:
        raw = _tag(image, *names)
        value = read(raw) if raw is not None else None
        if value is not None:
            exif[key] = value
    return exif


# --- Placeholder and dominant colour ----------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """What `/metadata` and a pack's analysis both say about how an image looks."""

    image: pyvips.Image  # at most SAMPLE_SIZE px a side, upright sRGB, 3 bands of 8 bits
    placeholder: str  # BlurHash of the sample shrunk to PLACEHOLDER_SIZE
    dominant_color: str


def sample(data: bytes, info: SourceInfo, decoded: pyvips.Image | None = None) -> Sample:
    """The one thumbnail of an image (alpha flattened on white) and what is read from it.

    Raises `pyvips.Error` when the image cannot be decoded.
    """
    image = decoders.thumbnail(data, info, SAMPLE_SIZE, decoded=decoded)
    if image.interpretation != "srgb":  # first: 16-bit or grey, so that white is 255 below
        image = image.colourspace("srgb")
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255])
    if image.bands == 1:
        image = image.bandjoin([image, image])
    image = image.extract_band(0, n=3).cast("uchar").copy_memory()  # decoded once, read often
    return Sample(
        image=image,
        placeholder=blurhash(image.thumbnail_image(PLACEHOLDER_SIZE), *BLURHASH_COMPONENTS),
        dominant_color=dominant_color(image),
    )


def _pixels(image: pyvips.Image) -> list[tuple[int, int, int]]:
    raw = bytes(image.write_to_memory())
    return [(raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 3)]


def dominant_color(image: pyvips.Image) -> str:
    """`#rrggbb`: the mean of the most common colour bin (each channel cut to 8 levels).

    A bin, not libvips' mean, because a mean of a red and a blue half is a purple that
    appears nowhere in the image. Ties go to the bin met first in reading order.
    """
    # The 128-px sample's mode: at 32 px, mixes (petals + white) outvote the largest real area.
    pixels = _pixels(image)
    bins = Counter((r >> 5, g >> 5, b >> 5) for r, g, b in pixels)
    top = bins.most_common(1)[0][0]
    members = [p for p in pixels if (p[0] >> 5, p[1] >> 5, p[2] >> 5) == top]
    mean = (round(sum(p[c] for p in members) / len(members)) for c in range(3))
    return "#" + "".join(f"{c:02x}" for c in mean)


_BASE83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"
_TO_LINEAR = [
    v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
    for v in (i / 255 for i in range(256))
]


def _base83(value: int, length: int) -> str:
    return "".join(_BASE83[(value // 83 ** (length - i)) % 83] for i in range(1, length + 1))


def _to_srgb(value: float) -> int:
    v = min(max(value, 0.0), 1.0)
    encoded = v * 12.92 if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055
    return int(encoded * 255 + 0.5)


def _sign_pow(value: float, exponent: float) -> float:
    return math.copysign(abs(value) ** exponent, value)


def _factors(image: pyvips.Image, cx: int, cy: int) -> list[tuple[float, float, float]]:
    """The cosine-transform coefficients of the linear-light image, DC first, row by row."""
    width, height = image.width, image.height
    linear = [(_TO_LINEAR[r], _TO_LINEAR[g], _TO_LINEAR[b]) for r, g, b in _pixels(image)]
    factors = []
    for j in range(cy):
        rows = [math.cos(math.pi * j * y / height) for y in range(height)]
        for i in range(cx):
            cols = [math.cos(math.pi * i * x / width) for x in range(width)]
            sums = [0.0, 0.0, 0.0]
            for index, pixel in enumerate(linear):
                basis = cols[index % width] * rows[index // width]
                for c in range(3):
                    sums[c] += basis * pixel[c]
            scale = (1 if i == j == 0 else 2) / (width * height)
            factors.append((sums[0] * scale, sums[1] * scale, sums[2] * scale))
    return factors


def _encode_ac(value: Sequence[float], maximum: float) -> int:
    quant = [max(0, min(18, math.floor(_sign_pow(v / maximum, 0.5) * 9 + 9.5))) for v in value]
    return quant[0] * 19 * 19 + quant[1] * 19 + quant[2]


def blurhash(image: pyvips.Image, cx: int, cy: int) -> str:
    """The BlurHash of an 8-bit sRGB `image` with `cx` x `cy` components (1..9 each)."""
    dc, *ac = _factors(image, cx, cy)
    text = _base83((cx - 1) + (cy - 1) * 9, 1)
    maximum = 1.0
    if ac:
        actual = max(abs(v) for factor in ac for v in factor)
        quantised = max(0, min(82, math.floor(actual * 166 - 0.5)))
        maximum = (quantised + 1) / 166
        text += _base83(quantised, 1)
    else:
        text += _base83(0, 1)
    text += _base83((_to_srgb(dc[0]) << 16) + (_to_srgb(dc[1]) << 8) + _to_srgb(dc[2]), 4)
    return text + "".join(_base83(_encode_ac(factor, maximum), 2) for factor in ac)
