"""Client-hint settings: the width list, and presets that use hints."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from images_server.settings import Settings


def test_widths_are_a_comma_list_kept_sorted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGES_CLIENT_HINTS_WIDTHS", "800, 400,800")
    assert Settings().client_hints_widths == (400, 800)
    for bad in ("", "0", "70000", "wide"):
        monkeypatch.setenv("IMAGES_CLIENT_HINTS_WIDTHS", bad)
        with pytest.raises(ValidationError, match="client_hints_widths"):
            Settings()


def test_a_preset_using_hints_must_be_named_auto() -> None:
    assert Settings(presets={"hero-auto": "resize/auto"}).presets["hero-auto"] == "resize/auto"
    with pytest.raises(ValidationError, match="'hero' uses client hints: its name must end in"):
        Settings(presets={"hero": "dpr/auto/resize/300x"})


def test_an_eager_preset_cannot_use_hints() -> None:
    with pytest.raises(ValidationError, match="'hero-auto' uses client hints"):
        Settings(presets={"hero-auto": "resize/auto"}, eager_presets=("hero-auto",))
