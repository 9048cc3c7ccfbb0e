"""The `text` op's pixels, drawn once for both engines with the fonts shipped in the package.

libvips (Pango, HarfBuzz, FriBiDi) lays the text out: Arabic is joined and runs right to
left, CJK and Latin take the fallback fonts, lines wrap at the op's width. Fontconfig is
pointed at `images_server/fonts` alone (`use_shipped_fonts`, called before any text is drawn
in a process): no system font is ever looked up, so every server draws the same glyphs. The
text is escaped before Pango sees it, so markup is drawn as written. The result is a PNG with
alpha that the engines lay like any overlay (`pipeline.steps.OverlayAt`): that is how the
Wand engine gives the same answer as the vips engine.
"""

from __future__ import annotations

import hashlib
import html
import os
import tempfile
from pathlib import Path

import pyvips

from images_server.errors import InvalidPipeline
from images_server.pipeline.overlay import OverlayImage
from images_server.pipeline.text import Text

FONTS = Path(__file__).resolve().parents[1] / "fonts"
FAMILY = "Noto Sans"  # with Noto Sans Arabic and Droid Sans Fallback (CJK) behind it
_CONFIG = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>{fonts}</dir><cachedir>{cache}</cachedir></fontconfig>
"""
_configured = False


def use_shipped_fonts() -> None:
    """Point fontconfig at the shipped fonts only (once per process; it reads the setting when
    it first starts, at the first text drawn)."""
    global _configured
    if _configured:
        return
    # one directory per user and installation, reused by every process (and its font cache)
    tag = hashlib.sha256(str(FONTS).encode()).hexdigest()[:12]
    home = Path(tempfile.gettempdir()) / f"images-server-fonts-{os.getuid()}-{tag}"
    home.mkdir(mode=0o700, exist_ok=True)
    if home.is_symlink() or home.stat().st_uid != os.getuid():  # someone else's: not trusted
        home = Path(tempfile.mkdtemp(prefix="images-server-fonts-"))
    text = _CONFIG.format(fonts=html.escape(str(FONTS)), cache=html.escape(str(home)))
    config = home / "fonts.conf"
    if not config.exists() or config.read_text() != text:
        partial = home / f".fonts.conf.{os.getpid()}"
        partial.write_text(text)
        os.replace(partial, config)  # processes starting together never read half a file
    os.environ["FONTCONFIG_FILE"] = str(config)
    _configured = True


def _drawn(op: Text) -> pyvips.Image:
    """The text in `op.colour` on transparency, with its box behind it when it has one."""
    use_shipped_fonts()
    options: dict[str, object] = {"font": f"{FAMILY} {op.size}", "dpi": 72, "rgba": True}
    if op.wrap is not None:
        options["width"] = op.wrap
    try:
        ink = pyvips.Image.text(html.escape(op.text, quote=False), **options)[3]
    except pyvips.Error as exc:  # e.g. nothing visible to draw
        reason = str(exc.detail).strip().splitlines()[-1] if exc.detail else "no text to render"
        raise InvalidPipeline(f"'{op.segment()}': the text cannot be drawn ({reason})") from None
    red, green, blue, alpha = op.colour
    colour = ink.new_from_image([red, green, blue]).cast("uchar")
    text = colour.bandjoin((ink * (alpha / 255)).cast("uchar")).copy(interpretation="srgb")
    if op.box is None:
        return text
    pad = max(1, round(op.size / 4))
    width, height = text.width + 2 * pad, text.height + 2 * pad
    box = text.new_from_image(list(op.box)).embed(0, 0, width, height, extend="copy")
    return box.composite2(text, "over", x=pad, y=pad).cast("uchar").copy(interpretation="srgb")


def rasterize(op: Text) -> OverlayImage:
    """`op`'s text as a PNG with alpha, and its size."""
    image = _drawn(op)
    return OverlayImage(bytes(image.pngsave_buffer(compression=1)), image.width, image.height)
