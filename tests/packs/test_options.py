"""Pack options (`packs/options.py`): each bad value answered with what it must be, naming the
first bad option in the order they apply; good ones laid over the recommended settings."""

from __future__ import annotations

import pytest

from images_server.errors import BadRequest
from images_server.packs.options import BASELINE, PackOptions, apply, role_defaults

KNOWN = "alt, decorative, fetchpriority, formats, loading, name, quality, role, sizes, widths"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"formats": " gif,webp"}, "'formats': ' gif' is not one of avif, webp, jpeg, png"),
        ({"formats": None}, "'formats': a non-empty list of avif, webp, jpeg, png"),
        ({"widths": "8"}, "'widths': 8 is below the minimum of 16"),
        ({"widths": [3.5]}, "'widths': 3.5 is not a whole number of pixels"),
        ({"widths": ",".join(["100"] * 17)}, "'widths': a list of 1 to 16 widths in pixels"),
        ({"quality": {"gif": 50}}, "'quality': 'gif' is not one of avif, webp, jpeg, png"),
        (
            {"quality": {"avif": True}},
            "'quality': avif quality must be a whole number from 1 to 100",
        ),
        ({"quality": "high"}, "'quality': an object of format to quality, e.g. {\"avif\": 50}"),
        ({"role": None}, "'role': None is not one of hero, content, card, thumbnail, avatar"),
        ({"alt": 3}, "'alt': text of at most 500 characters, without control characters"),
        ({"decorative": 1}, "'decorative': true or false"),
        (
            {"name": "x" * 65},
            "'name': text of at most 64 characters, without control characters",
        ),
        (
            {"name": "Abc"},
            "'name': lowercase letters, digits and dashes, starting with a letter or digit",
        ),
        ({"zeta": 1, "alpha": 2, "role": "x"}, f"'alpha': unknown option (known: {KNOWN})"),
        (
            {"role": "x", "formats": "bmp"},
            "'role': 'x' is not one of hero, content, card, thumbnail, avatar",
        ),
        (
            {"name": "../x", "decorative": "true", "alt": "y"},
            "'decorative': a decorative image has no alt text: leave 'alt' empty",
        ),
    ],
)
def test_a_bad_option_is_named_with_what_it_must_be(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(BadRequest) as raised:
        PackOptions.parse(options)
    assert raised.value.message == message


def test_quality_follows_the_chosen_formats() -> None:
    base = apply(BASELINE, PackOptions.parse({"formats": "avif,webp,jpeg"}), 1200)
    chosen = apply(base, PackOptions.parse({"formats": "png,avif", "quality": {"png": 90}}), 1200)
    assert chosen.formats == ("png", "avif")
    assert chosen.quality == {"png": 90, "avif": 50}  # jpeg's left with it; avif's a photo's


def test_explicit_choices_win_over_what_the_role_implies() -> None:
    options = PackOptions.parse({"role": "thumbnail", "sizes": "50vw", "loading": "eager"})
    chosen = apply(BASELINE, options, 1200)
    assert (chosen.role, chosen.sizes, chosen.loading, chosen.fetchpriority) == (
        "thumbnail",
        "50vw",
        "eager",
        "auto",
    )


def test_each_role_implies_its_loading_and_sizes() -> None:
    hero = role_defaults()["hero"]
    assert (hero.loading, hero.fetchpriority, hero.sizes) == ("eager", "high", "100vw")
    assert role_defaults()["avatar"].sizes == "96px"
