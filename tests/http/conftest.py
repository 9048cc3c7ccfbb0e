"""The loopback origin for `/external` tests, with a photo and a fake image on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.images import quadrant_bytes
from tests.origin import Origin, serving


@pytest.fixture
def origin() -> Iterator[Origin]:
    state = Origin()
    state.routes["/photo.png"] = (200, "image/png", quadrant_bytes(400, 300, "png"))
    state.routes["/text.png"] = (200, "image/png", b"not really an image")
    with serving(state) as running:
        yield running
