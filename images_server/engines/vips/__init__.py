"""The libvips engine (pyvips), the default. `engine` decodes, handles frames and encodes;
`steps` applies one resolved step to one frame."""

from images_server.engines.vips.engine import VipsEngine

__all__ = ["VipsEngine"]
