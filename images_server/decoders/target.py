"""`Target`: the size a render's first resize asks a shared decoder for."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """The size the render's first resize asks for: an SVG is drawn at it, and a large
    image reduced to twice it before it is handed on."""

    width: int
    height: int
