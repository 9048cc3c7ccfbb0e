"""Content hashes: the only source of storage and cache keys.

A user string never becomes a path or an S3 key. It is either validated here as 64 lowercase
hex characters (`parse_hash`) or hashed (`hash_bytes`); both give an `ImageRef`, which is all
that storages and caches accept.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum

from images_server.errors import ImageNotFound

_HASH = re.compile(r"[0-9a-f]{64}")


class Namespace(StrEnum):
    """Originals uploaded by users, remote originals fetched by `/external` (keyed by URL), and
    the private files of responsive image packs (keyed by pack id; never served by `/image`), and
    the downscaled derivatives of originals (keyed by original and part; never served as one)."""

    ORIGINALS = "originals"
    EXTERNAL = "external"
    PACKS = "packs"
    DERIVATIVES = "derivatives"


@dataclass(frozen=True)
class ImageRef:
    namespace: Namespace
    hash: str

    def __post_init__(self) -> None:
        if not _HASH.fullmatch(self.hash):
            raise ValueError("an ImageRef needs a lowercase hex SHA-256")


def hash_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_hash(text: str, namespace: Namespace = Namespace.ORIGINALS) -> ImageRef:
    """Validate a hash from a URL; anything else in that position is a 404 (docs/api.md §2)."""
    if not _HASH.fullmatch(text):
        raise ImageNotFound()
    return ImageRef(namespace, text)


def original_ref(data: bytes) -> ImageRef:
    return ImageRef(Namespace.ORIGINALS, hash_bytes(data))


def external_ref(url: str) -> ImageRef:
    return ImageRef(Namespace.EXTERNAL, hash_bytes(url.encode()))


def pack_ref(pack_id: str, part: str) -> ImageRef:
    """The storage key of one part (`source`, `zip`) of a pack."""
    return ImageRef(Namespace.PACKS, hash_bytes(f"{part}:{pack_id}".encode()))


def derivative_ref(original: ImageRef, part: str) -> ImageRef:
    """The storage key of one part (`manifest`, `level1`…) of an original's derivatives."""
    key = f"{part}:{original.namespace.value}:{original.hash}"
    return ImageRef(Namespace.DERIVATIVES, hash_bytes(key.encode()))
