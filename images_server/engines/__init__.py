"""Image engines, picked by the short name in `IMAGES_ENGINE`.

Importing this package hardens libvips for the whole process; the Wand engine package loads
ImageMagick with our security policy (`hardening`).
"""

from __future__ import annotations

from collections.abc import Callable

from images_server.engines import hardening
from images_server.engines.base import Engine

hardening.harden_libvips()


def _vips() -> Engine:
    from images_server.engines.vips import VipsEngine

    return VipsEngine()


def _wand() -> Engine:
    from images_server.engines.wand import WandEngine

    return WandEngine()


ENGINES: dict[str, Callable[[], Engine]] = {"vips": _vips, "wand": _wand}


def build_engine(name: str) -> Engine:
    return ENGINES[name]()
