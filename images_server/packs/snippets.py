"""Ready-to-paste code for a pack: HTML `<picture>`, CSS `image-set()`, a Next.js `<Image>`
and a React component. Every snippet refers to the pack's files by name (`hero-640.avif`),
relative to wherever the user puts them; sizes and attributes come from the pack pack_settings.
Values are escaped for the language they land in (HTML attributes, CSS strings, JS strings).
Without an `alt` option the snippets carry a placeholder alt text, to be replaced; a
`decorative` image gets an empty one (`alt=""`), which tells screen readers to skip it.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass

from images_server.formats import EXTENSIONS, MEDIA_TYPES
from images_server.packs.options import PackSettings


@dataclass(frozen=True)
class PackFile:
    file: str
    width: int
    height: int
    format: str
    bytes: int
    sha256: str


ALT_PLACEHOLDER = "Describe this image"


def _alt(pack_settings: PackSettings) -> str:
    """The alt text; empty for an image the user said is decorative; else a placeholder that
    asks for one (a missing alt is not a decision that the image is decoration)."""
    if pack_settings.decorative:
        return ""
    return pack_settings.alt or ALT_PLACEHOLDER


def file_name(name: str, width: int, fmt: str) -> str:
    return f"{name}-{width}.{EXTENSIONS[fmt]}"


def _by_format(files: list[PackFile], fmt: str) -> list[PackFile]:
    return sorted((f for f in files if f.format == fmt), key=lambda f: f.width)


def _srcset(files: list[PackFile]) -> str:
    return ", ".join(f"{f.file} {f.width}w" for f in files)


def _fallback(pack_settings: PackSettings) -> str:
    for fmt in ("jpeg", "png", "webp", "avif"):
        if fmt in pack_settings.formats:
            return fmt
    return pack_settings.formats[-1]


def _default_file(files: list[PackFile]) -> PackFile:
    """The `src` of the `<img>`: the width nearest 1024, for browsers without `srcset`."""
    return min(files, key=lambda f: (abs(f.width - 1024), -f.width))


def picture_html(pack_settings: PackSettings, files: list[PackFile]) -> str:
    attr = html.escape
    fallback_format = _fallback(pack_settings)
    fallback = _by_format(files, fallback_format)
    img = _default_file(fallback)
    lines = ["<picture>"]
    for fmt in pack_settings.formats:
        if fmt == fallback_format:
            continue
        lines.append(
            f'  <source type="{MEDIA_TYPES[fmt]}" srcset="{attr(_srcset(_by_format(files, fmt)))}"'
            f' sizes="{attr(pack_settings.sizes)}">'
        )
    priority = (
        f' fetchpriority="{pack_settings.fetchpriority}"'
        if pack_settings.fetchpriority != "auto"
        else ""
    )
    alt, loading = attr(_alt(pack_settings)), pack_settings.loading
    lines.append(
        f'  <img src="{attr(img.file)}" srcset="{attr(_srcset(fallback))}"'
        f' sizes="{attr(pack_settings.sizes)}" width="{img.width}" height="{img.height}"'
        f' alt="{alt}" loading="{loading}"{priority} decoding="async">'
    )
    lines.append("</picture>")
    return "\n".join(lines) + "\n"


def image_set_css(
    pack_settings: PackSettings, files: list[PackFile], selector: str = ".image"
) -> str:
    """A background image: `image-set()` of each format at the width nearest 1280 px."""
    entries = []
    for fmt in pack_settings.formats:
        candidates = _by_format(files, fmt)
        chosen = min(candidates, key=lambda f: (abs(f.width - 1280), -f.width))
        entries.append(f'url({json.dumps(chosen.file)}) type("{MEDIA_TYPES[fmt]}")')
    fallback = _default_file(_by_format(files, _fallback(pack_settings)))
    body = ",\n    ".join(entries)
    return (
        f"{selector} {{\n"
        f"  background-image: url({json.dumps(fallback.file)});\n"
        f"  background-image: image-set(\n    {body}\n  );\n"
        f"  background-size: cover;\n"
        f"  aspect-ratio: {fallback.width} / {fallback.height};\n"
        f"}}\n"
    )


def nextjs_image(pack_settings: PackSettings, files: list[PackFile], data_url: str) -> str:
    """A Next.js `<Image>` on the largest fallback file; Next.js makes its own widths."""
    largest = _by_format(files, _fallback(pack_settings))[-1]
    priority = "\n  priority" if pack_settings.role == "hero" else ""
    return (
        'import Image from "next/image";\n\n'
        f"<Image\n  src={json.dumps('/' + largest.file)}\n  width={{{largest.width}}}\n"
        f"  height={{{largest.height}}}\n  alt={json.dumps(_alt(pack_settings))}\n"
        f"  sizes={json.dumps(pack_settings.sizes)}{priority}\n"
        f'  placeholder="blur"\n  blurDataURL={json.dumps(data_url)}\n/>\n'
    )


def _component_name(name: str) -> str:
    parts = [part for part in name.replace("_", "-").split("-") if part]
    words = "".join(part[:1].upper() + part[1:] for part in parts) or "Image"
    return words if words[0].isalpha() else f"Image{words}"


def react_component(pack_settings: PackSettings, files: list[PackFile]) -> str:
    """A React component rendering the `<picture>`, with `alt` and `className` as props."""
    fallback_format = _fallback(pack_settings)
    fallback = _by_format(files, fallback_format)
    img = _default_file(fallback)
    sources = "".join(
        f"      <source type={json.dumps(MEDIA_TYPES[fmt])} "
        f"srcSet={json.dumps(_srcset(_by_format(files, fmt)))} "
        f"sizes={json.dumps(pack_settings.sizes)} />\n"
        for fmt in pack_settings.formats
        if fmt != fallback_format
    )
    priority = (
        f" fetchPriority={json.dumps(pack_settings.fetchpriority)}"
        if pack_settings.fetchpriority != "auto"
        else ""
    )
    name, alt = _component_name(pack_settings.name), json.dumps(_alt(pack_settings))
    return (
        f"export function {name}Picture({{ alt = {alt}, className }}) {{\n"
        f"  return (\n    <picture className={{className}}>\n{sources}"
        f"      <img src={json.dumps(img.file)} srcSet={json.dumps(_srcset(fallback))}"
        f" sizes={json.dumps(pack_settings.sizes)} width={{{img.width}}} height={{{img.height}}}"
        f' alt={{alt}} loading={json.dumps(pack_settings.loading)}{priority} decoding="async" />\n'
        f"    </picture>\n  );\n}}\n"
    )


def all_snippets(
    pack_settings: PackSettings, files: list[PackFile], data_url: str
) -> dict[str, str]:
    """The snippet files of a pack, by file name."""
    return {
        "picture.html": picture_html(pack_settings, files),
        "image-set.css": image_set_css(pack_settings, files),
        "next-image.jsx": nextjs_image(pack_settings, files, data_url),
        f"{_component_name(pack_settings.name)}Picture.jsx": react_component(pack_settings, files),
    }
