"""The Python client package (clients/python): URLs, signatures, srcset, <picture>, Jinja."""

from __future__ import annotations

import tomllib
from html.parser import HTMLParser
from typing import Any

import images_client
import pytest
from images_client import ImagesClient, escape_arg, image_path, image_url, picture, pipeline
from images_client import srcset as make_srcset
from images_client.jinja import install
from jinja2 import Environment
from markupsafe import Markup

from tests.clients.support import CLIENTS, vectors

H = "ab" * 32


def test_the_package_is_versioned_licensed_and_changelogged() -> None:
    meta = tomllib.loads((CLIENTS / "python" / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["name"] == "images-server-client"
    assert meta["project"]["dependencies"] == []  # the standard library only
    assert meta["project"]["optional-dependencies"]["jinja"] == ["jinja2>=3.0"]
    changelog = (CLIENTS / "python" / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## {images_client.__version__}" in changelog
    licence = (CLIENTS / "python" / "LICENSE").read_text(encoding="utf-8")
    assert licence == (CLIENTS.parent / "LICENSE").read_text(encoding="utf-8")


@pytest.mark.parametrize("case", vectors()["urls"], ids=lambda case: case["name"])
def test_every_url_vector(case: dict[str, Any]) -> None:
    url = image_url(
        case["hash"],
        case["ops"],
        query=case["query"],
        base_url=case["base_url"],
        key=case["key"],
        expires_in=case["expires_in"],
        now=case["now"],
    )
    assert url == case["url"]
    if case["key"] is not None:
        client = ImagesClient(
            case["base_url"],
            key=case["key"],
            expires_in=case["expires_in"],
            clock=lambda: case["now"],
        )
        assert client.url(case["hash"], case["ops"], query=case["query"]) == url
        assert url.rsplit("signature=", 1)[1] == case["signature"]


@pytest.mark.parametrize("case", vectors()["srcsets"], ids=lambda case: case["name"])
def test_every_srcset_vector(case: dict[str, Any]) -> None:
    built = make_srcset(
        case["hash"],
        case["widths"],
        case["ops"],
        format=case["format"],
        quality=case["quality"],
        enlarge=case["enlarge"],
        base_url=case["base_url"],
        key=case["key"],
        expires_in=case["expires_in"],
        now=case["now"],
    )
    assert built == case["srcset"]


def test_arguments_are_escaped_as_the_server_expects() -> None:
    assert escape_arg("300x300^") == "300x300%5E"
    assert escape_arg("300x300!") == "300x300%21"
    assert escape_arg("50%") == "50%25"
    assert escape_arg("1x1>") == "1x1%3E"
    assert escape_arg("1x1<") == "1x1%3C"
    assert escape_arg("10x10+1+2") == "10x10+1+2"
    assert escape_arg("@4000") == "@4000"
    assert escape_arg("a b#?&é") == "a%20b%23%3F%26%C3%A9"
    assert pipeline("/resize/300x/format/webp/") == "resize/300x/format/webp"
    assert pipeline([("rotate", -90), ("dpr", 1.5), ("blur", 2.0)]) == "rotate/-90/dpr/1.5/blur/2"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: image_path("AB" * 32), "image hash"),
        (lambda: image_path(H[1:]), "image hash"),
        (lambda: pipeline("resize/300x/format"), "odd number"),
        (lambda: pipeline("Resize/300x"), "bad op name"),
        (lambda: pipeline([("resize", "")]), "needs an argument"),
        (lambda: pipeline([("crop", "a/b")]), "cannot hold"),
        (lambda: pipeline([("blur", float("nan"))]), "finite"),
        (lambda: make_srcset(H, []), "at least one width"),
        (lambda: make_srcset(H, [0]), "whole number"),
        (lambda: image_url(H, expires_in=60), "needs a key"),
        (lambda: picture(H, [100], alt="", formats=("bmp",)), "unknown format"),
    ],
)
def test_bad_input_is_refused_before_a_url_is_built(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_a_boolean_is_no_argument() -> None:
    with pytest.raises(TypeError):
        pipeline([("quality", True)])


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(markup: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(markup)
    return parser.tags


def test_picture_has_a_source_per_modern_format_and_the_last_as_img() -> None:
    markup = picture(
        H,
        [320, 640],
        "crop/smart1600x900",
        alt='A "valley" & <dusk>',
        width=1600,
        height=900,
        sizes="(max-width: 800px) 100vw, 800px",
        quality={"avif": 50, "jpeg": 80},
        attrs={"class": "hero"},
        base_url="https://images.example.com",
    )
    tags = _tags(markup)
    assert [tag for tag, _ in tags] == ["picture", "source", "source", "img"]
    (_, avif), (_, webp), (_, img) = tags[1:]
    base = f"https://images.example.com/image/{H}/crop/smart1600x900"
    assert avif == {
        "type": "image/avif",
        "srcset": f"{base}/resize/320x/quality/50/format/avif 320w, "
        f"{base}/resize/640x/quality/50/format/avif 640w",
        "sizes": "(max-width: 800px) 100vw, 800px",
    }
    assert webp["type"] == "image/webp"
    assert (
        webp["srcset"]
        == f"{base}/resize/320x/format/webp 320w, {base}/resize/640x/format/webp 640w"
    )
    assert img == {
        "src": f"{base}/resize/640x/quality/80/format/jpeg",
        "srcset": f"{base}/resize/320x/quality/80/format/jpeg 320w, "
        f"{base}/resize/640x/quality/80/format/jpeg 640w",
        "sizes": "(max-width: 800px) 100vw, 800px",
        "alt": 'A "valley" & <dusk>',
        "width": "1600",
        "height": "900",
        "loading": "lazy",
        "decoding": "async",
        "class": "hero",
    }
    assert 'alt="A &quot;valley&quot; &amp; &lt;dusk&gt;"' in markup


def test_a_signed_picture_signs_every_candidate() -> None:
    client = ImagesClient("https://i.example", key="k", expires_in=60, clock=lambda: 1_700_000_000)
    tags = _tags(client.picture(H, [100, 200], alt="", formats=("webp", "png"), loading=None))
    sources = [attrs for tag, attrs in tags if tag in ("source", "img")]
    for attrs in sources:
        for candidate in str(attrs["srcset"]).split(", "):
            assert "?expires=1700000060&signature=" in candidate
    assert "loading" not in sources[-1]
    assert sources[-1]["alt"] == ""


def test_the_jinja_filters() -> None:
    environment = Environment(autoescape=True)
    client = ImagesClient("https://i.example", key="k", expires_in=60, clock=lambda: 1_700_000_000)
    install(environment, client)
    template = environment.from_string(
        '<img src="{{ h | images_url("resize/800x") }}"'
        ' srcset="{{ h | images_srcset([400, 800], format="webp") }}" alt="">\n'
        '{{ h | images_picture([400], alt="<b>", formats=["jpeg"]) }}'
    )
    html = template.render(h=H)
    url = client.url(H, "resize/800x")
    assert "&" in url
    assert f'src="{Markup.escape(url)}"' in html  # & is &amp; in the attribute
    assert f'srcset="{Markup.escape(client.srcset(H, [400, 800], format="webp"))}"' in html
    assert "<picture>\n  <img " in html  # markup, not escaped text
    assert 'alt="&lt;b&gt;"' in html
    assert _tags(html)[0][1]["src"] == url
