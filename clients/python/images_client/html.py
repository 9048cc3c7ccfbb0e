"""`<picture>` markup: one `<source>` per modern format, the last format as the `<img>`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Union

from images_client.urls import Ops, Query, image_url, srcset, width_ops

__all__ = ["MIME_TYPES", "picture"]

MIME_TYPES = {
    "avif": "image/avif",
    "webp": "image/webp",
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
}
Quality = Union[int, Mapping[str, int], None]


def _attrs(pairs: Sequence[tuple[str, object]]) -> str:
    return "".join(
        f' {name}="{escape(str(value), quote=True)}"' for name, value in pairs if value is not None
    )


def picture(
    hash_: str,
    widths: Sequence[int],
    ops: Ops = None,
    *,
    alt: str,
    formats: Sequence[str] = ("avif", "webp", "jpeg"),
    sizes: str = "100vw",
    width: int | None = None,
    height: int | None = None,
    loading: str | None = "lazy",
    decoding: str | None = "async",
    fetchpriority: str | None = None,
    quality: Quality = None,
    attrs: Mapping[str, str] | None = None,
    query: Query = None,
    base_url: str = "",
    key: str | bytes | None = None,
    expires_in: int | None = None,
    now: float | None = None,
) -> str:
    """A `<picture>`: a `<source type srcset sizes>` for each format but the last, which is the
    `<img>` (its `src` the largest width). `quality` is one number or one per format; `alt`
    is required (`""` for a decorative image); `width`/`height` (the displayed aspect ratio)
    reserve the layout's space; `attrs` adds attributes (class, id…) to the `<img>`."""
    if not formats:
        raise ValueError("a picture needs at least one format")
    unknown = [name for name in formats if name not in MIME_TYPES]
    if unknown:
        raise ValueError(f"unknown format {unknown[0]!r} (known: {', '.join(MIME_TYPES)})")
    if not widths:
        raise ValueError("a picture needs at least one width")

    def quality_of(name: str) -> int | None:
        return quality.get(name) if isinstance(quality, Mapping) else quality

    def candidates(name: str) -> str:
        return srcset(
            hash_,
            widths,
            ops,
            format=name,
            quality=quality_of(name),
            query=query,
            base_url=base_url,
            key=key,
            expires_in=expires_in,
            now=now,
        )

    lines = ["<picture>"]
    for name in formats[:-1]:
        pairs = [("type", MIME_TYPES[name]), ("srcset", candidates(name)), ("sizes", sizes)]
        lines.append(f"  <source{_attrs(pairs)}>")
    last = formats[-1]
    src = image_url(
        hash_,
        width_ops(ops, max(widths), quality=quality_of(last), format=last),
        query=query,
        base_url=base_url,
        key=key,
        expires_in=expires_in,
        now=now,
    )
    img: list[tuple[str, object]] = [
        ("src", src),
        ("srcset", candidates(last)),
        ("sizes", sizes),
        ("alt", alt),
        ("width", width),
        ("height", height),
        ("loading", loading),
        ("decoding", decoding),
        ("fetchpriority", fetchpriority),
        *(attrs or {}).items(),
    ]
    lines.append(f"  <img{_attrs(img)}>")
    lines.append("</picture>")
    return "\n".join(lines)
