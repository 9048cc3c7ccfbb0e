"""Jinja filters (`pip install 'images-server-client[jinja]'`).

    from images_client import ImagesClient
    from images_client.jinja import install

    install(app.jinja_env, ImagesClient("https://images.example.com", key=KEY, expires_in=86400))

    <img src="{{ image.hash | images_url('resize/800x') }}"
         srcset="{{ image.hash | images_srcset([400, 800, 1600], format='webp') }}"
         sizes="(max-width: 800px) 100vw, 800px" alt="{{ image.alt }}">
    {{ image.hash | images_picture([400, 800, 1600], alt=image.alt) }}

`images_url` and `images_srcset` return plain text, which autoescaping escapes correctly in an
attribute (`&` becomes `&amp;`); `images_picture` returns markup, safe as it is.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from images_client.client import ImagesClient

__all__ = ["install"]


def install(environment: Environment, client: ImagesClient) -> None:
    """Register the `images_url`, `images_srcset` and `images_picture` filters of `client`."""

    def images_picture(hash_: str, *args: Any, **kwargs: Any) -> Markup:
        return Markup(client.picture(hash_, *args, **kwargs))  # noqa: S704 (every value is escaped)

    environment.filters["images_url"] = client.url
    environment.filters["images_srcset"] = client.srcset
    environment.filters["images_picture"] = images_picture
