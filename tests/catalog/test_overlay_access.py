"""An overlay is read like the image itself (docs/api.md §5): a private one needs the same
rights, and a variant that shows one is as private as it is."""

from __future__ import annotations

from flask import Flask

from tests.catalog.support import (
    ALICE,
    BOB,
    IMMUTABLE,
    PRIVATE,
    assert_error,
    bearer,
    upload,
)
from tests.images import quadrant_bytes

BASE = quadrant_bytes(120, 90, "png")
LOGO = quadrant_bytes(30, 20, "png", alpha=True)


def test_a_private_overlay_needs_the_rights_to_read_it(keyed: Flask) -> None:
    client = keyed.test_client()
    base = upload(client, BASE, ALICE).get_json()["hash"]  # public
    logo = upload(client, LOGO, ALICE, public="false").get_json()["hash"]
    url = f"/image/{base}/overlay/{logo},se,4"
    for key in (None, BOB):
        assert_error(client.get(url, headers=bearer(key)), 403, "private_image")
    shown = client.get(url, headers=bearer(ALICE))
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == PRIVATE  # it shows a private image
    assert_error(client.get(url), 403, "private_image")  # the cached variant stays closed


def test_public_images_over_public_images_stay_public(keyed: Flask) -> None:
    client = keyed.test_client()
    base = upload(client, BASE, ALICE).get_json()["hash"]
    logo = upload(client, LOGO, BOB).get_json()["hash"]
    shown = client.get(f"/image/{base}/overlay/{logo}")
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == IMMUTABLE


def test_an_overlay_that_is_not_stored_is_a_400_naming_it(keyed: Flask) -> None:
    client = keyed.test_client()
    base = upload(client, BASE, ALICE).get_json()["hash"]
    missing = "cd" * 32
    response = client.get(f"/image/{base}/overlay/{missing}")
    assert_error(response, 400, "invalid_pipeline")
    assert f"'overlay/{missing}'" in response.get_json()["message"]
