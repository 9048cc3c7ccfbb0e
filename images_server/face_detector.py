"""OpenCV's face detector as a child process: `python -m images_server.face_detector`.

The job worker (`images_server.faces`) sends a grey probe image on stdin, as an 8-byte header
(width, height: two little-endian 32-bit integers) and its pixels, one byte each, row by row;
this prints the faces found as JSON, `[[x, y, width, height], ...]` in pixels. It imports
OpenCV and NumPy and nothing of the server's, so the ~40 MB they take are given back when it
exits instead of staying in the worker for as long as it runs (`make bench-memory`).
"""

from __future__ import annotations

import json
import struct
import sys

CASCADE = "haarcascade_frontalface_alt2.xml"
SCALE_FACTOR = 1.1
NEIGHBOURS = 5  # more: fewer false faces, more missed ones (measured in tests/faces)
SMALLEST = 1 / 40  # of the probe's shorter side: smaller faces are noise at this size
HEADER = struct.Struct("<II")


def detect(pixels: bytes, width: int, height: int) -> list[list[int]]:
    """The faces in a grey image, as [x, y, width, height] in pixels."""
    import cv2
    import cv2.data
    import numpy as np

    image = np.frombuffer(pixels, dtype=np.uint8).reshape(height, width)
    classifier = cv2.CascadeClassifier(cv2.data.haarcascades + CASCADE)
    smallest = max(12, round(min(width, height) * SMALLEST))
    boxes = classifier.detectMultiScale(
        cv2.equalizeHist(image),
        scaleFactor=SCALE_FACTOR,
        minNeighbors=NEIGHBOURS,
        minSize=(smallest, smallest),
    )
    return [[int(value) for value in box] for box in boxes]


def main() -> None:
    data = sys.stdin.buffer.read()
    width, height = HEADER.unpack_from(data)
    pixels = data[HEADER.size :]
    if width * height != len(pixels):
        raise SystemExit(f"expected {width}x{height} pixels, got {len(pixels)} bytes")
    json.dump(detect(pixels, width, height), sys.stdout)


if __name__ == "__main__":
    main()
