"""The ImageMagick engine (Wand). `engine` decodes, handles frames and encodes; `steps`
applies one resolved step to one frame."""

from images_server.engines.wand.engine import WandEngine

__all__ = ["WandEngine"]
