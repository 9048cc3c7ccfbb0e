"""`format/auto`: which format an `Accept` header's entries settle it to.

Only explicit entries of the negotiable formats count (a `*/*` from curl is not a promise to
decode AVIF); q-values rank them, `q=0` refuses, and a tie goes to the format listed first in
`IMAGES_AUTO_FORMATS`. JPEG XL is negotiable but not in the default list: only Safari shows
it, and it costs more to encode than WebP or AVIF at the efforts used (README).
"""

from __future__ import annotations

from collections.abc import Iterable

from images_server.formats import MEDIA_TYPES, OutputFormat

NEGOTIABLE: tuple[OutputFormat, ...] = ("avif", "webp", "jxl")
AUTO_FORMATS: tuple[str, ...] = ("avif", "webp")


def negotiate(
    accept: Iterable[tuple[str, float]], formats: Iterable[str] = AUTO_FORMATS
) -> OutputFormat | None:
    """The format of `formats` (in order of preference) that `accept` ranks highest, or None
    (the source's format) when it lists none of them."""
    allowed = [fmt for fmt in NEGOTIABLE if fmt in formats]
    by_type = {MEDIA_TYPES[fmt]: fmt for fmt in allowed}
    offered: dict[OutputFormat, float] = {}
    for value, q in accept:
        fmt = by_type.get(value.lower())
        if fmt is not None and q > 0:
            offered[fmt] = max(q, offered.get(fmt, 0.0))
    if not offered:
        return None
    order = list(formats)
    return max(offered, key=lambda fmt: (offered[fmt], -order.index(fmt)))
