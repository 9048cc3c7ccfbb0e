"""The README's "Front-end" HTML is what the Python package builds, attribute for attribute."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from images_client import image_url, picture, srcset

from tests.clients.support import CLIENTS

H = "fd5016d7b6e5fbb8a1d9b7c3f0c4e2a19b8d7e6f5a4c3b2a1908f7e6d5c4415e"
BASE = "https://images.example.com"
Tag = tuple[str, dict[str, str]]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[Tag] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # a srcset may be wrapped over lines: whitespace runs are one space
        self.tags.append((tag, {k: re.sub(r"\s+", " ", v or "") for k, v in attrs}))


def tags(markup: str) -> list[Tag]:
    parser = _Tags()
    parser.feed(markup)
    return parser.tags


def front_end_html() -> str:
    readme = (CLIENTS.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Front-end\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```html\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 1
    return str(blocks[0])


def test_the_readme_img_and_picture_are_the_packages() -> None:
    shown = tags(front_end_html())
    sizes = "(max-width: 800px) 100vw, 800px"
    img = {
        "src": image_url(H, "resize/960x/format/webp", base_url=BASE),
        "srcset": srcset(H, [480, 960, 1440], format="webp", base_url=BASE),
        "sizes": sizes,
        "width": "1600",
        "height": "900",
        "alt": "A valley at dusk",
        "loading": "lazy",
        "decoding": "async",
    }
    built = picture(
        H,
        [640, 1280],
        "resize/1600x900^/crop/1600x900",
        alt="A valley at dusk",
        width=1600,
        height=900,
        sizes=sizes,
        base_url=BASE,
    )
    assert shown == [("img", img), *tags(built)]
