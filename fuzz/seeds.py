"""Seed inputs for the upload fuzzer, and the byte mutations of its hypothesis runner.

Seeds are the hostile corpus of `tests/hostile/corpus.py` (bombs, truncations, wrong magic,
ImageTragick payloads, polyglots), small valid images of the five web formats and of JPEG XL
(bare and in its container), and the headers of the sample photos in `samples/` (their first
bytes: EXIF with GPS, orientation 6, ICC, a large PNG's chunks), each cut to `MAX_LEN` so
executions stay fast.
"""

from __future__ import annotations

from pathlib import Path

from tests.hostile.corpus import corpus, jxl_container, small, small_jxl
from tests.images import SAMPLES, animation, quadrant_image

MAX_LEN = 128 * 1024
BENCH_HEADER = 16 * 1024
FIELD_VALUES = (0, 1, 2, 7, 8, 255, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)


def seeds() -> dict[str, bytes]:
    """Name to bytes; the bench headers are left out when the bench images are missing."""
    found = {item.name: item.data[:MAX_LEN] for item in corpus() if item.data}
    for fmt in ("jpeg", "png", "gif", "webp", "avif"):
        found[f"valid-{fmt}"] = small(fmt)
    found["valid-jxl"] = small_jxl()  # a bare codestream
    found["valid-jxl-container"] = jxl_container(small_jxl(), parts=2)  # in jxlp boxes
    frame = quadrant_image(8, 6)
    found["valid-gif-animated"] = animation([frame, frame.flip("horizontal")], "gif", [50, 50])
    found["valid-webp-animated"] = animation([frame, frame.flip("vertical")], "webp", [50, 50])
    if SAMPLES.is_dir():
        for path in sorted(SAMPLES.iterdir()):
            if path.suffix in (".jpg", ".png"):
                with path.open("rb") as handle:
                    found[f"bench-{path.stem}"] = handle.read(BENCH_HEADER)
    return found


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
