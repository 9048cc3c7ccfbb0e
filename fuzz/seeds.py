"""Seed inputs for the upload fuzzer, and the byte mutations of its hypothesis runner.

Seeds are the hostile corpus of `tests/hostile/corpus.py` (bombs, truncations, wrong magic,
ImageTragick payloads, polyglots) and the hostile SVGs of `tests/hostile/svg_corpus.py`,
small valid images of every input format (JPEG XL bare and in its container), the headers
of the sample photos in `samples/` (their first bytes: EXIF with GPS, orientation 6, ICC, a large
PNG's chunks) and the real files of the other formats in its subfolders, each cut to `MAX_LEN`
so executions stay fast.
"""

from __future__ import annotations

from pathlib import Path

import pyvips

from tests.hostile.corpus import corpus, jxl_container, small, small_jxl
from tests.hostile.svg_corpus import CORPUS as SVG_CORPUS
from tests.images import SAMPLES, animation, quadrant_image
from tests.svgs import RICH

MAX_LEN = 128 * 1024
BENCH_HEADER = 16 * 1024
_NOT_IMAGES = ("LICENSE", "SHA256SUMS")
FIELD_VALUES = (0, 1, 2, 7, 8, 255, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)


def seeds() -> dict[str, bytes]:
    """Name to bytes; the bench headers are left out when the bench images are missing."""
    found = {item.name: item.data[:MAX_LEN] for item in corpus() if item.data}
    for fmt in ("jpeg", "png", "gif", "webp", "avif", "tiff"):
        found[f"valid-{fmt}"] = small(fmt)
    found["valid-tiff-tiled-bigtiff"] = small_tiff(tile=True, bigtiff=True, compression="lzw")
    found["valid-jxl"] = small_jxl()  # a bare codestream
    found["valid-jxl-container"] = jxl_container(small_jxl(), parts=2)  # in jxlp boxes
    frame = quadrant_image(8, 6)
    found["valid-gif-animated"] = animation([frame, frame.flip("horizontal")], "gif", [50, 50])
    found["valid-webp-animated"] = animation([frame, frame.flip("vertical")], "webp", [50, 50])
    found["valid-svg"] = RICH
    for case in SVG_CORPUS:  # pointed at a closed port and a missing folder
        found[f"svg-{case.name}"] = case.data("http://127.0.0.1:9", "/nonexistent")[:MAX_LEN]
    if SAMPLES.is_dir():
        for path in sorted(SAMPLES.iterdir()):
            if path.suffix in (".jpg", ".png"):
                with path.open("rb") as handle:
                    found[f"bench-{path.stem}"] = handle.read(BENCH_HEADER)
        for path in sorted(SAMPLES.glob("*/**/*")):  # other formats' real and hostile files
            if path.is_file() and path.suffix != ".md" and not path.name.startswith(_NOT_IMAGES):
                name = "-".join(path.relative_to(SAMPLES).with_suffix("").parts)
                found[f"sample-{name}"] = path.read_bytes()[:MAX_LEN]
        found.update(_heic_seeds(SAMPLES / "heic"))
    return found


def _heic_seeds(folder: Path) -> dict[str, bytes]:
    """The small HEIC samples whole (alpha, 10-bit, several images), and the phones' headers
    (meta box: iloc, iinf, iref, grid tiles; the image data is cut away)."""
    found = {}
    for path in sorted(folder.glob("*.hei[cf]")):
        data = path.read_bytes()
        if len(data) <= MAX_LEN:
            found[f"valid-heic-{path.stem}"] = data
        else:
            found[f"header-heic-{path.stem}"] = data[:BENCH_HEADER]
    return found


def small_tiff(**options: object) -> bytes:
    """A valid 64x48 TIFF written with `options` (tiles, BigTIFF, a compression)."""
    image = pyvips.Image.new_from_buffer(small("png"), "")
    return bytes(image.tiffsave_buffer(**options))


def write_seeds(directory: Path) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    found = seeds()
    for name, data in found.items():
        (directory / name).write_bytes(data)
    return len(found)


def mutate(data: bytes, kind: int, position: int, value: int, blob: bytes) -> bytes:
    """One of: overwrite a byte, write a 32-bit boundary value, cut, insert, delete, repeat."""
    at = position % (len(data) + 1)
    match kind % 6:
        case 0:
            return data[:at] + bytes([value & 0xFF]) + data[at + 1 :]
        case 1:
            word = FIELD_VALUES[value % len(FIELD_VALUES)].to_bytes(
                4, "big" if value & 1 else "little"
            )
            return data[:at] + word + data[at + 4 :]
        case 2:
            return data[:at]
        case 3:
            return data[:at] + blob + data[at:]
        case 4:
            return data[:at] + data[at + 1 + value % 64 :]
    return data[:at] + data[at : at + 1 + value % 64] * (1 + value % 8) + data[at:]
