"""Face detection, run by the job worker once per original: OpenCV's frontal-face cascade.

The model is the Haar cascade `haarcascade_frontalface_alt2.xml` that ships in the
opencv-python-headless wheel (no download at run time). OpenCV is imported here only, inside
`find`, so the web process never loads it (~60 MB of libraries): only the worker does. The
detector sees a bounded copy (`PROBE_SIDE` pixels a side at most, upright, grey, histogram
equalised), decoded by libvips with shrink-on-load, so an original of any size costs about
the same. Faces are kept with the image's row (`content.set_faces`) in 0..1 of the upright
image. When faces are found, the HTTP caches in front (NGINX, a CDN) are purged afterwards, so
a face crop rendered before (`smart`) under the same URL is not kept there (with none found,
the fallback stays the answer); the result cache is left alone, since
the key of every plan that uses faces says whether they were known (a variant cached before
detection is never served after it), and every other variant stays a hit.
"""

from __future__ import annotations

import logging

import pyvips

from images_server import content, decoders
from images_server.caches.purge import purge_everywhere
from images_server.errors import ServiceUnavailable
from images_server.formats.sniff import sniff
from images_server.hashing import ImageRef
from images_server.pipeline.focus import Region
from images_server.services import Services

log = logging.getLogger(__name__)

PROBE_SIDE = 1024
CASCADE = "haarcascade_frontalface_alt2.xml"
_SCALE_FACTOR = 1.1
_NEIGHBOURS = 5  # more: fewer false faces, more missed ones (measured in tests/faces)
_SMALLEST = 1 / 40  # of the probe's shorter side: smaller faces are noise at this size


def probe(data: bytes) -> pyvips.Image:
    """The upright, grey, bounded copy the detector sees."""
    image = decoders.thumbnail(data, sniff(data), PROBE_SIDE, height=PROBE_SIDE, size="down")
    if image.hasalpha():
        image = image.flatten(background=[255])
    return image.colourspace("b-w")[0].cast("uchar")


def find(data: bytes) -> tuple[Region, ...]:
    """The faces in an encoded image, as (x, y, width, height) in 0..1, largest first."""
    import cv2  # the worker's only: see the module docstring
    import cv2.data
    import numpy as np

    image = probe(data)
    width, height = image.width, image.height
    pixels = np.ndarray(buffer=image.write_to_memory(), dtype=np.uint8, shape=(height, width))
    classifier = cv2.CascadeClassifier(cv2.data.haarcascades + CASCADE)
    smallest = max(12, round(min(width, height) * _SMALLEST))
    boxes = classifier.detectMultiScale(
        cv2.equalizeHist(pixels),
        scaleFactor=_SCALE_FACTOR,
        minNeighbors=_NEIGHBOURS,
        minSize=(smallest, smallest),
    )
    regions = [
        (x / width, y / height, w / width, h / height)
        for x, y, w, h in (map(int, b) for b in boxes)
    ]
    return tuple(sorted(regions, key=lambda r: -r[2] * r[3]))


def detect(services: Services, ref: ImageRef) -> int:
    """Find the faces of a stored original and keep them with its row; how many."""
    faces = find(services.storage.get(ref))
    content.set_faces(services, ref, faces)
    if not faces:  # a face crop falls back to `smart`, as it did before: nothing changed
        return 0
    try:
        purge_everywhere(services.http_purgers, ref)
    except ServiceUnavailable as error:
        log.warning("faces of %s stored, but a cache could not be purged: %s", ref.hash, error)
    return len(faces)
