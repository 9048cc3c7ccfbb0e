"""Colour maths both engines share, so a filter gives the same pixels on either.

Matrices apply to gamma-encoded sRGB (as CSS filters do): grayscale uses Rec. 709 luma
weights, sepia the classic matrix of the CSS Filter Effects specification.
"""

from __future__ import annotations

_LUMA = [0.2126, 0.7152, 0.0722]

FILTER_MATRICES: dict[str, list[list[float]]] = {
    "grayscale": [_LUMA, _LUMA, _LUMA],
    "sepia": [
        [0.393, 0.769, 0.189],
        [0.349, 0.686, 0.168],
        [0.272, 0.534, 0.131],
    ],
}


def css_rgba(rgba: tuple[int, int, int, int]) -> str:
    """`srgba(r,g,b,a)` text for ImageMagick's colour parser."""
    red, green, blue, alpha = rgba
    return f"srgba({red},{green},{blue},{alpha / 255:.4f})"
