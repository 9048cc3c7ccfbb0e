"""Where the content is: focal points and faces, followed through the steps, to place crops.

An image's facts (`ImageHints`: its stored focal point, the faces the worker found) are in
0..1 of the upright original, like a focal point given in the URL. `Frame` maps those into
pixels of the image as it is at a given step (an affine map, updated by every resize, crop,
rotation, flip and pad), so `crop/focal…` or `crop/face…` after `resize/…` or `rotate/…` still
lands on the same content. A smart crop's box is chosen by the engine, unknown here: after one,
the frame is lost, and later focal crops centre, face crops go smart. `place` puts a box of a
given size as close to centred on a point as the image allows; `face_boxes` gives the boxes
`redact/faces` blurs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from images_server.pipeline.geometry import Box, Point

Region = tuple[float, float, float, float]  # x, y, width, height in 0..1 of the original
Affine = tuple[float, float, float, float, float, float]  # x' = a x + b y + c, y' = d x + e y + f


@dataclass(frozen=True)
class ImageHints:
    """What is known of one image's content; part of a variant's key when a plan uses it."""

    focal: Point | None = None  # stored with PUT /image/<hash>/focal
    faces: tuple[Region, ...] | None = None  # None: not detected yet; (): none found

    def key(self, focal: bool, faces: bool) -> str:
        """Text for the cache key of a plan that uses the focal point and/or the faces."""
        parts = []
        if focal:
            parts.append("focal=" + ("none" if self.focal is None else _numbers(self.focal)))
        if faces:
            known = self.faces
            parts.append("faces=" + ("pending" if known is None else _regions(known)))
        return "|".join(parts)


def _numbers(values: tuple[float, ...]) -> str:
    return ",".join(f"{v:.4f}".rstrip("0").rstrip(".") for v in values)


def _regions(regions: tuple[Region, ...]) -> str:
    return ";".join(_numbers(region) for region in regions) or "none"


@dataclass(frozen=True)
class Frame:
    """Pixels of the current image for a point in 0..1 of the upright original."""

    affine: Affine

    @classmethod
    def of(cls, width: int, height: int) -> Frame:
        return cls((float(width), 0.0, 0.0, 0.0, float(height), 0.0))

    def point(self, point: Point) -> Point:
        a, b, c, d, e, f = self.affine
        x, y = point
        return a * x + b * y + c, d * x + e * y + f

    def box(self, region: Region) -> tuple[float, float, float, float]:
        """The bounds (left, top, right, bottom) of a region's mapped corners."""
        x, y, w, h = region
        corners = [self.point(p) for p in ((x, y), (x + w, y), (x, y + h), (x + w, y + h))]
        xs, ys = [p[0] for p in corners], [p[1] for p in corners]
        return min(xs), min(ys), max(xs), max(ys)

    def then(self, affine: Affine) -> Frame:
        """This frame followed by `affine` (pixels to pixels)."""
        a1, b1, c1, d1, e1, f1 = self.affine
        a2, b2, c2, d2, e2, f2 = affine
        return Frame(
            (
                a2 * a1 + b2 * d1,
                a2 * b1 + b2 * e1,
                a2 * c1 + b2 * f1 + c2,
                d2 * a1 + e2 * d1,
                d2 * b1 + e2 * e1,
                d2 * c1 + e2 * f1 + f2,
            )
        )


def scaled(sx: float, sy: float) -> Affine:
    return (sx, 0.0, 0.0, 0.0, sy, 0.0)


def shifted(dx: float, dy: float) -> Affine:
    return (1.0, 0.0, dx, 0.0, 1.0, dy)


def mirrored(width: int, height: int, horizontal: bool, vertical: bool) -> Affine:
    return (
        -1.0 if horizontal else 1.0,
        0.0,
        float(width) if horizontal else 0.0,
        0.0,
        -1.0 if vertical else 1.0,
        float(height) if vertical else 0.0,
    )


def rotated(size: tuple[int, int], canvas: tuple[int, int], degrees: float) -> Affine:
    """Clockwise about the centre, the centre landing on the new canvas' centre."""
    radians = math.radians(degrees)
    cos, sin = math.cos(radians), math.sin(radians)
    cx, cy = size[0] / 2, size[1] / 2
    nx, ny = canvas[0] / 2, canvas[1] / 2
    return (cos, -sin, nx - cx * cos + cy * sin, sin, cos, ny - cx * sin - cy * cos)


def place(width: int, height: int, box: Box, centre: Point) -> Box:
    """`box`'s size, centred on `centre` as far as the image's edges allow."""
    left = round(centre[0] - box.width / 2)
    top = round(centre[1] - box.height / 2)
    left = min(max(left, 0), width - box.width)
    top = min(max(top, 0), height - box.height)
    return Box(left, top, box.width, box.height)


def faces_centre(frame: Frame, faces: tuple[Region, ...], size: tuple[int, int]) -> Point | None:
    """The centre of the bounds of every face inside the image (None: none is)."""
    bounds = []
    for region in faces:
        left, top, right, bottom = frame.box(region)
        left, top = max(left, 0.0), max(top, 0.0)
        right, bottom = min(right, float(size[0])), min(bottom, float(size[1]))
        if right > left and bottom > top:
            bounds.append((left, top, right, bottom))
    if not bounds:
        return None
    left, top = min(b[0] for b in bounds), min(b[1] for b in bounds)
    right, bottom = max(b[2] for b in bounds), max(b[3] for b in bounds)
    return (left + right) / 2, (top + bottom) / 2


FACE_MARGIN = 0.2  # each face box grows by this share of its size on every side: the
# detector's box is tight around eyes and mouth, and leaves hair, ears and chin outside


def face_boxes(frame: Frame, faces: tuple[Region, ...], size: tuple[int, int]) -> tuple[Box, ...]:
    """Each face's box, grown by `FACE_MARGIN`, rounded outwards, in pixels of the current
    image and clipped to it; faces wholly outside it are left out."""
    boxes = []
    for region in faces:
        left, top, right, bottom = frame.box(region)
        grow_x, grow_y = (right - left) * FACE_MARGIN, (bottom - top) * FACE_MARGIN
        box = clip(
            math.floor(left - grow_x),
            math.floor(top - grow_y),
            math.ceil(right + grow_x),
            math.ceil(bottom + grow_y),
            size,
        )
        if box is not None:
            boxes.append(box)
    return tuple(boxes)


def clip(left: int, top: int, right: int, bottom: int, size: tuple[int, int]) -> Box | None:
    """The box between these bounds, clipped to an image of `size` (None: nothing is left)."""
    left, top = max(left, 0), max(top, 0)
    right, bottom = min(right, size[0]), min(bottom, size[1])
    return Box(left, top, right - left, bottom - top) if right > left and bottom > top else None
