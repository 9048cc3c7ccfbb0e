"""Face detection, run by the job worker once per original: OpenCV's frontal-face cascade.

The model is the Haar cascade `haarcascade_frontalface_alt2.xml` that ships in the
opencv-python-headless wheel (no download at run time). OpenCV runs in a child process
(`face_detector`) started for each original and gone once it answers, so neither the web
process nor the job worker ever holds its ~40 MB of libraries (the child's start costs about
0.3 s an upload, in the background). The detector sees a bounded copy (`PROBE_SIDE` pixels a
side at most, upright, grey, histogram equalised), decoded by libvips with shrink-on-load, so
an original of any size costs about the same. Faces are kept with the image's row
(`content.set_faces`) in 0..1 of the upright image. When faces are found, the HTTP caches in
front (NGINX, a CDN) are purged afterwards, so a face crop rendered before (`smart`) under the
same URL is not kept there (with none found, the fallback stays the answer); the result cache
is left alone, since the key of every plan that uses faces says whether they were known (a
variant cached before detection is never served after it), and every other variant stays a hit.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pyvips

from images_server import content, decoders, face_detector
from images_server.caches.purge import purge_everywhere
from images_server.errors import ServiceUnavailable
from images_server.formats.sniff import sniff
from images_server.hashing import ImageRef
from images_server.pipeline.focus import Region
from images_server.services import Services

log = logging.getLogger(__name__)

PROBE_SIDE = 1024
DETECT_TIMEOUT = 60  # seconds; a 1024 px probe takes well under one (its import included)


def probe(data: bytes) -> pyvips.Image:
    """The upright, grey, bounded copy the detector sees."""
    image = decoders.thumbnail(data, sniff(data), PROBE_SIDE, height=PROBE_SIDE, size="down")
    if image.hasalpha():
        image = image.flatten(background=[255])
    return image.colourspace("b-w")[0].cast("uchar")


def find(data: bytes) -> tuple[Region, ...]:
    """The faces in an encoded image, as (x, y, width, height) in 0..1, largest first.

    The detector runs in a child process (`face_detector`) that exits once done, at most
    `DETECT_TIMEOUT` seconds: `RuntimeError` if it fails or takes longer.
    """
    image = probe(data)
    width, height = image.width, image.height
    try:
        done = subprocess.run(
            [sys.executable, "-m", "images_server.face_detector"],
            input=face_detector.HEADER.pack(width, height) + image.write_to_memory(),
            capture_output=True,
            timeout=DETECT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(f"face detection took more than {DETECT_TIMEOUT} s") from error
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"face detection failed: {reason[0]}")
    boxes: list[list[int]] = json.loads(done.stdout)
    regions = [(x / width, y / height, w / width, h / height) for x, y, w, h in boxes]
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
