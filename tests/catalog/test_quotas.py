"""Per-user quotas (docs/api.md §2): an upload over `IMAGES_QUOTA_IMAGES` or `IMAGES_QUOTA_BYTES`
is 413 `quota_exceeded` and stores nothing; bytes already stored cost nothing more."""

from __future__ import annotations

from flask import Flask

from images_server.db.models import Image, Upload
from images_server.hashing import original_ref
from tests.catalog.support import (
    ALICE,
    BOB,
    KEYS,
    MakeApp,
    assert_error,
    count,
    files,
    services,
    upload,
)
from tests.images import quadrant_bytes

FIRST = quadrant_bytes(40, 30, "png")
SECOND = quadrant_bytes(64, 48, "png")


def _nothing_stored(app: Flask, data: bytes) -> None:
    ref = original_ref(data)
    assert not services(app).storage.exists(ref)
    assert count(app, Image, hash=ref.hash) == count(app, Upload, image_hash=ref.hash) == 0


def test_the_image_quota(make_app: MakeApp) -> None:
    app = make_app(api_keys=KEYS, quota_images=1)
    client = app.test_client()
    assert upload(client, FIRST, ALICE).status_code == 201
    assert_error(upload(client, SECOND, ALICE), 413, "quota_exceeded")
    _nothing_stored(app, SECOND)
    assert len(files(services(app).settings.originals_dir)) == 1
    assert upload(client, FIRST, ALICE).status_code == 201  # the same bytes cost nothing
    assert count(app, Upload, user="alice") == 2
    assert upload(client, SECOND, BOB).status_code == 201  # bob has his own quota
    assert upload(client, FIRST, BOB).status_code == 201  # and may hold alice's bytes too
    assert_error(upload(client, quadrant_bytes(8, 8, "png"), BOB), 413, "quota_exceeded")
    assert count(app, Image) == 2


def test_the_byte_quota(make_app: MakeApp) -> None:
    assert len(SECOND) > len(FIRST)
    app = make_app(api_keys=KEYS, quota_bytes=len(FIRST) + len(SECOND) - 1)
    client = app.test_client()
    assert upload(client, FIRST, ALICE).status_code == 201
    assert_error(upload(client, SECOND, ALICE), 413, "quota_exceeded")
    _nothing_stored(app, SECOND)
    assert upload(client, FIRST, ALICE).status_code == 201
    assert upload(client, SECOND, BOB).status_code == 201
    small = quadrant_bytes(4, 4, "png")
    assert len(FIRST) + len(small) < len(FIRST) + len(SECOND) - 1
    assert upload(client, small, ALICE).status_code == 201  # what is left still fits


def test_a_freed_quota_can_be_used_again(make_app: MakeApp) -> None:
    app = make_app(api_keys=KEYS, quota_images=1)
    client = app.test_client()
    digest = upload(client, FIRST, ALICE).get_json()["hash"]
    assert_error(upload(client, SECOND, ALICE), 413, "quota_exceeded")
    assert (
        client.delete(f"/image/{digest}", headers={"Authorization": f"Bearer {ALICE}"}).status_code
        == 200
    )
    assert upload(client, SECOND, ALICE).status_code == 201
