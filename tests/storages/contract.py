"""The one behaviour every `Storage` must have, bound to each implementation by subclassing.

A test module subclasses `StorageContract` as `Test…` and provides a `storage` fixture; the
contract class itself is not collected (its name does not start with `Test`).
"""

from __future__ import annotations

import os

import pytest

from images_server.errors import ImageNotFound
from images_server.hashing import ImageRef, Namespace, hash_bytes
from images_server.storages.base import Storage

ALL_BYTES = bytes(range(256)) * 4 + b"\r\n\x00\r\x1a"


def ref_for(data: bytes, namespace: Namespace = Namespace.ORIGINALS) -> ImageRef:
    return ImageRef(namespace, hash_bytes(data))


class StorageContract:
    def test_put_then_get_roundtrips(self, storage: Storage) -> None:
        ref = ref_for(b"picture")
        storage.put(ref, b"picture")
        assert storage.get(ref) == b"picture"

    def test_bytes_come_back_exactly(self, storage: Storage) -> None:
        ref = ref_for(ALL_BYTES)
        storage.put(ref, ALL_BYTES)
        got = storage.get(ref)
        assert type(got) is bytes
        assert got == ALL_BYTES

    def test_empty_object_roundtrips(self, storage: Storage) -> None:
        ref = ref_for(b"")
        storage.put(ref, b"")
        assert storage.get(ref) == b""
        assert storage.exists(ref)

    def test_get_missing_raises_image_not_found(self, storage: Storage) -> None:
        with pytest.raises(ImageNotFound):
            storage.get(ref_for(b"never stored"))

    def test_exists(self, storage: Storage) -> None:
        ref = ref_for(b"exists")
        assert not storage.exists(ref)
        storage.put(ref, b"exists")
        assert storage.exists(ref)

    def test_delete_is_true_then_false(self, storage: Storage) -> None:
        ref = ref_for(b"doomed")
        storage.put(ref, b"doomed")
        assert storage.delete(ref) is True
        assert storage.delete(ref) is False
        assert not storage.exists(ref)
        with pytest.raises(ImageNotFound):
            storage.get(ref)

    def test_delete_missing_is_false(self, storage: Storage) -> None:
        assert storage.delete(ref_for(b"never stored")) is False

    def test_namespaces_are_separate(self, storage: Storage) -> None:
        digest = hash_bytes(b"same hash")
        original = ImageRef(Namespace.ORIGINALS, digest)
        external = ImageRef(Namespace.EXTERNAL, digest)
        storage.put(original, b"uploaded")
        assert not storage.exists(external)
        storage.put(external, b"fetched from a url")
        assert storage.get(original) == b"uploaded"
        assert storage.get(external) == b"fetched from a url"
        assert storage.delete(external)
        assert storage.get(original) == b"uploaded"

    def test_objects_are_separate(self, storage: Storage) -> None:
        first, second = ref_for(b"first"), ref_for(b"second")
        storage.put(first, b"first")
        storage.put(second, b"second")
        assert storage.get(first) == b"first"
        assert storage.get(second) == b"second"

    def test_putting_twice_is_idempotent(self, storage: Storage) -> None:
        ref = ref_for(b"twice")
        storage.put(ref, b"twice")
        storage.put(ref, b"twice")
        assert storage.get(ref) == b"twice"
        assert storage.delete(ref) is True
        assert not storage.exists(ref)

    def test_large_object_roundtrips(self, storage: Storage) -> None:
        data = os.urandom(3 * 1024 * 1024 + 17)
        ref = ref_for(data)
        storage.put(ref, data)
        assert storage.get(ref) == data

    def test_check_passes(self, storage: Storage) -> None:
        storage.check()
