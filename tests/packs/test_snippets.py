"""The snippets: valid markup with every format and width, attributes from the settings,
values escaped for where they land; alt text given, missing (a placeholder) or decorative."""

from __future__ import annotations

from dataclasses import replace
from html.parser import HTMLParser

from images_server.packs.options import PackSettings
from images_server.packs.snippets import PackFile, all_snippets, file_name, picture_html

SETTINGS = PackSettings(
    name="hero-shot",
    formats=("avif", "webp", "jpeg"),
    widths=(320, 640),
    quality={"avif": 50, "webp": 75, "jpeg": 80},
    role="hero",
    loading="eager",
    fetchpriority="high",
    sizes="100vw",
    alt='A "quoted" <b>alt</b> & more',
)
FILES = [
    PackFile(file_name("hero-shot", w, f), w, w * 3 // 4, f, 1000 + w, "0" * 64)
    for w in (320, 640)
    for f in ("avif", "webp", "jpeg")
]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_picture_has_a_source_per_modern_format_and_an_img_fallback() -> None:
    parser = _Tags()
    parser.feed(picture_html(SETTINGS, FILES))
    tags = parser.tags
    assert [tag for tag, _ in tags] == ["picture", "source", "source", "img"]
    assert tags[1][1]["type"] == "image/avif"
    assert tags[1][1]["srcset"] == "hero-shot-320.avif 320w, hero-shot-640.avif 640w"
    assert tags[2][1]["type"] == "image/webp"
    img = tags[3][1]
    assert img["src"] == "hero-shot-640.jpg"
    assert img["srcset"] == "hero-shot-320.jpg 320w, hero-shot-640.jpg 640w"
    assert (img["width"], img["height"]) == ("640", "480")
    assert img["alt"] == SETTINGS.alt  # escaped in the markup, intact once parsed
    assert (img["loading"], img["fetchpriority"], img["sizes"]) == ("eager", "high", "100vw")


def test_every_snippet_names_only_files_of_the_pack() -> None:
    snippets = all_snippets(SETTINGS, FILES, "data:image/png;base64,AAAA")
    assert set(snippets) == {
        "picture.html",
        "image-set.css",
        "next-image.jsx",
        "HeroShotPicture.jsx",
    }
    css = snippets["image-set.css"]
    assert 'url("hero-shot-640.avif") type("image/avif")' in css
    assert "image-set(" in css
    nextjs = snippets["next-image.jsx"]
    assert 'src="/hero-shot-640.jpg"' in nextjs
    assert "priority" in nextjs
    assert 'blurDataURL="data:image/png;base64,AAAA"' in nextjs
    react = snippets["HeroShotPicture.jsx"]
    assert react.startswith("export function HeroShotPicture(")
    assert '"A \\"quoted\\" <b>alt</b> & more"' in react  # a JS string, not raw markup
    assert 'srcSet="hero-shot-320.webp 320w, hero-shot-640.webp 640w"' in react


def test_a_one_format_pack_has_no_empty_lines_in_its_component() -> None:
    single = PackSettings(**{**SETTINGS.to_json(), "formats": ("jpeg",)})  # type: ignore[arg-type]
    jpeg_files = [f for f in FILES if f.format == "jpeg"]
    react = all_snippets(single, jpeg_files, "data:,")["HeroShotPicture.jsx"]
    assert "\n\n" not in react
    assert "<source" not in react
    assert 'srcSet="hero-shot-320.jpg 320w, hero-shot-640.jpg 640w"' in react


def test_without_alt_text_the_snippets_ask_for_it() -> None:
    unnamed = PackSettings(**{**SETTINGS.to_json(), "alt": ""})  # type: ignore[arg-type]
    snippets = all_snippets(unnamed, FILES, "data:,")
    assert 'alt="Describe this image"' in snippets["picture.html"]
    assert 'alt="Describe this image"' in snippets["next-image.jsx"]
    assert '{ alt = "Describe this image", className }' in snippets["HeroShotPicture.jsx"]


def test_a_decorative_image_has_an_empty_alt_in_every_snippet() -> None:
    decorative = replace(SETTINGS, alt="", decorative=True)
    snippets = all_snippets(decorative, FILES, "data:,")
    parser = _Tags()
    parser.feed(snippets["picture.html"])
    img = parser.tags[-1][1]
    assert img["alt"] == ""  # present and empty: screen readers skip the image
    assert 'alt=""' in snippets["picture.html"]
    assert "Describe this image" not in "".join(snippets.values())
    assert '\n  alt=""\n' in snippets["next-image.jsx"]
    assert '{ alt = "", className }' in snippets["HeroShotPicture.jsx"]
