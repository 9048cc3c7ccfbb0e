"""What the web page shows of a chosen file that browsers cannot show themselves.

The page previews the chosen file from the browser's own copy; a HEIC, TIFF or JPEG XL (and
an SVG, which the page must not display unsanitized) gets a small JPEG, or PNG where there is
alpha, drawn by the shared decoder instead, as a data URL in the analysis answer.
"""

from __future__ import annotations

import base64

import pyvips

from images_server import decoders
from images_server.formats import MEDIA_TYPES, WEB_FORMATS, served_format
from images_server.formats.sniff import sniff

PREVIEW_SIDE = 480


def browser_preview(data: bytes, decoded: pyvips.Image | None = None) -> str | None:
    """A data URL of a preview of `data` when it is not a web format, else None (`decoded`
    as its check gave it, see `ingest.Checked`)."""
    info = sniff(data)
    if info.format in WEB_FORMATS:
        return None
    image = decoders.thumbnail(
        data, info, PREVIEW_SIDE, decoded=decoded, height=PREVIEW_SIDE, size="down"
    )
    if image.format != "uchar":
        image = image.colourspace("srgb" if image.bands >= 3 else "b-w").cast("uchar")
    fmt = served_format(info.format, info.has_alpha)
    body = (
        image.jpegsave_buffer(Q=80, keep="none")
        if fmt == "jpeg"
        else image.pngsave_buffer(keep="none")
    )
    return f"data:{MEDIA_TYPES[fmt]};base64,{base64.b64encode(body).decode('ascii')}"
