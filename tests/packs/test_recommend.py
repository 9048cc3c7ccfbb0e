"""Analysis of real photos and graphics, the recommended settings, and user overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from images_server.errors import BadRequest
from images_server.formats.sniff import sniff
from images_server.packs.analysis import analyse, aspect_label
from images_server.packs.options import PackOptions, PackSettings, apply
from images_server.packs.recommend import LADDER, recommend, safe_name
from tests.images import quadrant_bytes


def apply_overrides(
    recommended: PackSettings, options: dict[str, object], source_width: int
) -> PackSettings:
    return apply(recommended, PackOptions.parse(options), source_width)


@pytest.mark.parametrize(
    ("name", "kind", "label"),
    [
        ("photo-12mp-4000x3000.jpg", "photo", "4:3"),
        ("photo-1mp-1200x900.jpg", "photo", "4:3"),
        ("camera-canon-3mp-orient6.jpg", "photo", "3:4"),  # as displayed: turned upright
        ("photo-alpha-1200x1600.png", "photo", "3:4"),
        ("dice-alpha-300x225.png", "graphic", "4:3"),
    ],
)
def test_analysis_of_the_test_images(samples: Path, name: str, kind: str, label: str) -> None:
    data = (samples / name).read_bytes()
    analysis = analyse(data)
    assert analysis.kind == kind
    assert analysis.aspect_label == label
    assert analysis.bytes == len(data)
    assert len(analysis.placeholder) == 28
    assert analysis.dominant_color.startswith("#")
    header = sniff(data)  # what a pack's options are checked against before the analysis
    assert (header.width, header.height, header.has_alpha) == (
        analysis.width,
        analysis.height,
        analysis.has_alpha,
    )


def test_flat_shapes_are_a_graphic() -> None:
    assert analyse(quadrant_bytes(640, 480, "png")).kind == "graphic"


@pytest.mark.parametrize(
    ("size", "label"),
    [((1920, 1080), "16:9"), ((1200, 628), "1.91:1"), ((1000, 1000), "1:1"), ((700, 500), "7:5")],
)
def test_aspect_labels(size: tuple[int, int], label: str) -> None:
    assert aspect_label(*size) == label


def test_a_large_photo_is_a_hero_with_a_ladder_up_to_4k(samples: Path) -> None:
    analysis = analyse((samples / "photo-12mp-4000x3000.jpg").read_bytes())
    settings = recommend(analysis, "photo")
    assert settings.formats == ("avif", "webp", "jpeg")
    assert settings.widths == LADDER  # 160 .. 3840: 4000 is wider than any screen needs
    assert (settings.role, settings.loading, settings.fetchpriority) == ("hero", "eager", "high")
    assert settings.sizes == "100vw"
    assert settings.quality == {"avif": 50, "webp": 75, "jpeg": 80}


def test_transparency_falls_back_to_png_and_widths_never_exceed_the_source(
    samples: Path,
) -> None:
    analysis = analyse((samples / "dice-alpha-300x225.png").read_bytes())
    settings = recommend(analysis, "dice")
    assert settings.formats == ("avif", "webp", "png")
    assert max(settings.widths) == 300
    assert settings.widths == (160, 300)
    assert settings.role == "thumbnail"
    assert settings.loading == "lazy"


def test_a_source_just_past_a_step_does_not_add_a_near_duplicate_width(samples: Path) -> None:
    analysis = analyse((samples / "photo-1mp-1200x900.jpg").read_bytes())
    assert recommend(analysis).widths == (160, 320, 640, 960, 1200)


def test_overrides_apply_and_are_clamped(samples: Path) -> None:
    analysis = analyse((samples / "photo-1mp-1200x900.jpg").read_bytes())
    base = recommend(analysis, "photo")
    chosen = apply_overrides(
        base,
        {
            "widths": "640, 320,5000",
            "formats": ["webp", "jpg"],
            "quality": {"webp": 60},
            "role": "hero",
        },
        analysis.width,
    )
    assert chosen.widths == (320, 640, 1200)  # sorted, 5000 clamped to the source's width
    assert chosen.formats == ("webp", "jpeg")
    assert chosen.quality == {"webp": 60, "jpeg": 80}
    assert (chosen.role, chosen.loading, chosen.sizes) == ("hero", "eager", "100vw")


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"formats": "bmp"}, "formats"),
        ({"formats": []}, "formats"),
        ({"widths": "abc"}, "widths"),
        ({"widths": "8"}, "widths"),
        ({"widths": ",".join(["100"] * 17)}, "widths"),
        ({"quality": {"avif": 0}}, "quality"),
        ({"quality": {"avif": True}}, "quality"),
        ({"quality": "high"}, "quality"),
        ({"role": "banner"}, "role"),
        ({"loading": "soon"}, "loading"),
        ({"fetchpriority": "urgent"}, "fetchpriority"),
        ({"alt": "a\nb"}, "alt"),
        ({"decorative": "maybe"}, "decorative"),
        ({"decorative": "true", "alt": "Two dice"}, "decorative"),  # decoration has no alt
        ({"name": "../etc"}, "name"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_options_name_the_field(samples: Path, options: dict[str, object], field: str) -> None:
    analysis = analyse((samples / "photo-1mp-1200x900.jpg").read_bytes())
    with pytest.raises(BadRequest) as raised:
        apply_overrides(recommend(analysis), options, analysis.width)
    assert raised.value.message.startswith(f"'{field}'")


@pytest.mark.parametrize(
    ("filename", "stem"),
    [
        ("My Photo.JPG", "my-photo"),
        ("../../etc/passwd", "passwd"),
        ("....", "image"),
        (None, "image"),
    ],
)
def test_safe_names(filename: str | None, stem: str) -> None:
    assert safe_name(filename) == stem


@pytest.mark.parametrize(
    ("value", "decorative"),
    [("true", True), ("on", True), (True, True), ("false", False), (False, False)],
)
def test_decorative_is_a_flag(samples: Path, value: object, decorative: bool) -> None:
    analysis = analyse((samples / "dice-alpha-300x225.png").read_bytes())
    recommended = recommend(analysis)
    assert (recommended.alt, recommended.decorative) == ("", False)  # neither, until the user says
    chosen = apply_overrides(recommended, {"decorative": value}, analysis.width)
    assert chosen.decorative is decorative
