"""A client for images-server: URLs from a hash and ops, signed URLs, `srcset` and `<picture>`,
uploads with retries, and Jinja filters (`images_client.jinja`, with the `jinja` extra)."""

from __future__ import annotations

from images_client.client import ImagesClient
from images_client.html import picture
from images_client.signing import canonical_message, sign_url
from images_client.upload import ImagesError, Upload, upload
from images_client.urls import escape_arg, image_path, image_url, pipeline, srcset

__version__ = "0.1.0"
__all__ = [
    "ImagesClient",
    "ImagesError",
    "Upload",
    "__version__",
    "canonical_message",
    "escape_arg",
    "image_path",
    "image_url",
    "picture",
    "pipeline",
    "sign_url",
    "srcset",
    "upload",
]
