"""Originals in a process-local dict: the `Storage` for tests and throwaway runs.

Nothing survives the process and nothing is shared between workers, so it is never picked by
settings; tests construct it directly. A lock keeps it safe under a threaded test server.
"""

from __future__ import annotations

import threading

from images_server.errors import ImageNotFound
from images_server.hashing import ImageRef


class MemoryStorage:
    def __init__(self) -> None:
        self._objects: dict[ImageRef, bytes] = {}
        self._lock = threading.Lock()

    def put(self, ref: ImageRef, data: bytes) -> None:
        with self._lock:
            self._objects[ref] = bytes(data)

    def get(self, ref: ImageRef) -> bytes:
        with self._lock:
            try:
                return self._objects[ref]
            except KeyError:
                raise ImageNotFound() from None

    def exists(self, ref: ImageRef) -> bool:
        with self._lock:
            return ref in self._objects

    def delete(self, ref: ImageRef) -> bool:
        with self._lock:
            return self._objects.pop(ref, None) is not None

    def check(self) -> None:
        return None
