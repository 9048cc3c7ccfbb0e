"""Rows and bytes stay in step when the storage or the database fails mid-request (docs/api.md §2).

Failures are injected into the real parts: the storage's `put`/`delete` raise, or every
`Session.commit` raises (a `before_commit` listener), and the test then reads the database
and the data directory directly.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask

from images_server.db.models import Image, Upload
from images_server.errors import ServiceUnavailable
from images_server.hashing import ImageRef, original_ref
from images_server.settings import Settings
from tests.catalog.support import (
    ALICE,
    BOB,
    assert_error,
    bearer,
    count,
    failing_commits,
    files,
    services,
    upload,
)
from tests.images import quadrant_bytes

PICTURE = quadrant_bytes(40, 30, "png")
REF = original_ref(PICTURE)


def _originals(app: Flask) -> list[str]:
    settings: Settings = services(app).settings
    return [path.name for path in files(settings.originals_dir)]


def _unavailable(*_args: object) -> bool:
    raise ServiceUnavailable("injected: the storage is down")


def test_a_failing_put_leaves_no_rows(keyed: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services(keyed).storage, "put", _unavailable)
    assert_error(upload(keyed.test_client(), PICTURE, ALICE), 503, "service_unavailable")
    assert count(keyed, Image) == count(keyed, Upload) == 0
    assert _originals(keyed) == []


def test_a_failing_commit_leaves_no_bytes(keyed: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    storage = services(keyed).storage
    put = storage.put
    stored: list[ImageRef] = []

    def recording_put(ref: ImageRef, data: bytes) -> None:
        stored.append(ref)
        put(ref, data)

    monkeypatch.setattr(storage, "put", recording_put)
    with failing_commits() as failed:
        response = upload(keyed.test_client(), PICTURE, ALICE)
    assert_error(response, 503, "database_unavailable")
    assert failed
    assert stored == [REF]
    assert not storage.exists(REF)
    assert _originals(keyed) == []
    assert count(keyed, Image) == count(keyed, Upload) == 0


def test_a_failing_storage_delete_keeps_row_and_bytes(
    keyed: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = keyed.test_client()
    assert upload(client, PICTURE, ALICE).status_code == 201
    monkeypatch.setattr(services(keyed).storage, "delete", _unavailable)
    response = client.delete(f"/image/{REF.hash}", headers=bearer(ALICE))
    assert_error(response, 503, "service_unavailable")
    monkeypatch.undo()
    assert count(keyed, Image, hash=REF.hash) == 1
    assert count(keyed, Upload, image_hash=REF.hash) == 1
    assert services(keyed).storage.get(REF) == PICTURE
    assert client.get(f"/image/{REF.hash}").status_code == 200


def test_a_failing_delete_commit_restores_the_bytes(
    keyed: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = keyed.test_client()
    assert upload(client, PICTURE, ALICE).status_code == 201
    storage = services(keyed).storage
    delete = storage.delete
    deleted: list[bool] = []

    def recording_delete(ref: ImageRef) -> bool:
        deleted.append(delete(ref))
        return deleted[-1]

    monkeypatch.setattr(storage, "delete", recording_delete)
    with failing_commits() as failed:
        response = client.delete(f"/image/{REF.hash}", headers=bearer(ALICE))
    monkeypatch.undo()
    assert_error(response, 503, "database_unavailable")
    assert failed
    assert deleted == [True]  # the bytes were gone, then the commit failed: they are back
    assert count(keyed, Image, hash=REF.hash) == 1
    assert count(keyed, Upload, image_hash=REF.hash) == 1
    assert services(keyed).storage.get(REF) == PICTURE
    assert client.get(f"/image/{REF.hash}").status_code == 200
    assert client.delete(f"/image/{REF.hash}", headers=bearer(ALICE)).status_code == 200
    assert count(keyed, Image) == count(keyed, Upload) == 0
    assert _originals(keyed) == []


def test_the_same_bytes_keep_one_image_row(keyed: Flask) -> None:
    client = keyed.test_client()
    first = upload(client, PICTURE, ALICE)
    again = upload(client, PICTURE, ALICE)
    by_bob = upload(client, PICTURE, BOB)
    assert first.status_code == again.status_code == by_bob.status_code == 201
    assert first.get_json()["hash"] == again.get_json()["hash"] == by_bob.get_json()["hash"]
    assert count(keyed, Image) == 1
    assert count(keyed, Image, hash=REF.hash, owner="alice") == 1  # the first owner stays
    assert count(keyed, Upload, image_hash=REF.hash) == 3
    assert count(keyed, Upload, image_hash=REF.hash, user="bob") == 1
    assert len(_originals(keyed)) == 1


def test_a_failed_upload_never_deletes_bytes_stored_before(keyed: Flask) -> None:
    client = keyed.test_client()
    assert upload(client, PICTURE, ALICE).status_code == 201
    with failing_commits() as failed:
        assert_error(upload(client, PICTURE, BOB), 503, "database_unavailable")
    assert failed
    assert services(keyed).storage.get(REF) == PICTURE
    assert count(keyed, Image, hash=REF.hash, owner="alice") == 1
    assert count(keyed, Upload, image_hash=REF.hash) == 1
    assert count(keyed, Upload, user="bob") == 0


def test_bytes_stored_without_a_row_survive_a_failed_upload(keyed: Flask) -> None:
    storage = services(keyed).storage
    storage.put(REF, PICTURE)  # stored before the database existed, owned by nobody
    with failing_commits() as failed:
        assert_error(upload(keyed.test_client(), PICTURE, BOB), 503, "database_unavailable")
    assert failed
    assert storage.get(REF) == PICTURE
    assert count(keyed, Image) == count(keyed, Upload) == 0


def test_concurrent_first_uploads_make_one_row(keyed: Flask) -> None:
    users = (ALICE, BOB, ALICE, BOB)
    barrier = threading.Barrier(len(users))

    def send(key: str) -> int:
        client = keyed.test_client()
        barrier.wait()
        return upload(client, PICTURE, key).status_code

    with ThreadPoolExecutor(len(users)) as pool:
        statuses = list(pool.map(send, users))
    assert statuses == [201] * len(users)
    assert count(keyed, Image) == 1
    assert count(keyed, Upload, image_hash=REF.hash) == len(users)
    assert services(keyed).storage.get(REF) == PICTURE
    assert len(_originals(keyed)) == 1
