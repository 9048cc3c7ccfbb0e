"""`MemoryStorage` against the storage contract."""

from __future__ import annotations

import pytest

from images_server.storages.memory import MemoryStorage
from tests.storages.contract import StorageContract


class TestMemoryStorage(StorageContract):
    @pytest.fixture
    def storage(self) -> MemoryStorage:
        return MemoryStorage()
