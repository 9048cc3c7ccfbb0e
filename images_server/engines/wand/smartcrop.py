"""Content-aware crop for the Wand engine: the window with the most edge energy.

ImageMagick has no attention crop, so this measures it on a small grey copy (at most
`_PROBE` pixels a side): the absolute gradient per pixel, summed over every window of the
crop's shape through an integral image, the busiest window winning (ties: the most central).
libvips' `attention` also weighs skin tones and saturation, so the two engines may pick
different, equally reasonable, boxes.
"""

from __future__ import annotations

from wand.image import BaseImage, Image

from images_server.pipeline.geometry import Box

_PROBE = 64


def _grey_probe(image: BaseImage) -> tuple[list[int], int, int]:
    with Image(image=image) as probe:
        probe.transform(resize=f"{_PROBE}x{_PROBE}>")
        probe.type = "grayscale"
        pixels = list(probe.export_pixels(channel_map="I", storage="char"))
        return pixels, probe.width, probe.height


def _energy(pixels: list[int], width: int, height: int) -> list[list[int]]:
    """Integral image of |dx| + |dy|: the sum of a window is four look-ups."""
    table = [[0] * (width + 1) for _ in range(height + 1)]
    for y in range(height):
        row_sum = 0
        for x in range(width):
            here = pixels[y * width + x]
            right = pixels[y * width + min(x + 1, width - 1)]
            below = pixels[min(y + 1, height - 1) * width + x]
            row_sum += abs(right - here) + abs(below - here)
            table[y + 1][x + 1] = table[y][x + 1] + row_sum
    return table


def _best_offset(
    table: list[list[int]], size: tuple[int, int], window: tuple[int, int]
) -> tuple[int, int]:
    (width, height), (win_w, win_h) = size, window
    centre = ((width - win_w) / 2, (height - win_h) / 2)
    best = (-1.0, 0.0, 0, 0)
    for y in range(height - win_h + 1):
        for x in range(width - win_w + 1):
            total = (
                table[y + win_h][x + win_w]
                - table[y][x + win_w]
                - table[y + win_h][x]
                + table[y][x]
            )
            closeness = -abs(x - centre[0]) - abs(y - centre[1])
            best = max(best, (float(total), closeness, x, y))
    return best[2], best[3]


def smart_box(image: BaseImage, width: int, height: int) -> Box:
    """The `width` x `height` box of `image` with the most detail."""
    pixels, probe_w, probe_h = _grey_probe(image)
    scale = probe_w / image.width
    window = (
        max(1, min(probe_w, round(width * scale))),
        max(1, min(probe_h, round(height * scale))),
    )
    x, y = _best_offset(_energy(pixels, probe_w, probe_h), (probe_w, probe_h), window)
    left = min(round(x / scale), image.width - width)
    top = min(round(y / scale), image.height - height)
    return Box(max(0, left), max(0, top), width, height)
