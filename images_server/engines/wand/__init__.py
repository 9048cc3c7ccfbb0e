"""The ImageMagick engine (Wand). `engine` decodes, handles frames and encodes; `steps`
applies one resolved step to one frame."""

from images_server.engines.hardening import load_imagemagick

load_imagemagick()  # before anything below imports Wand

from images_server.engines.wand.engine import WandEngine  # noqa: E402

__all__ = ["WandEngine"]
