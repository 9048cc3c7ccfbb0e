"""Derivatives cost at most `derivatives_max_storage` (40%) of their original, follow it into
every storage (memory, filesystem, S3) under their own namespace, and go with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from images_server import derivatives
from images_server.hashing import ImageRef, Namespace
from images_server.settings import Settings
from images_server.storages.base import Storage
from images_server.storages.filesystem import FilesystemStorage
from images_server.storages.memory import MemoryStorage
from images_server.storages.s3 import S3Storage
from tests.conftest_s3 import AWS_REGION
from tests.derivatives.support import make_services, plan_of, render_path, store
from tests.images import quadrant_bytes

PHOTO = "photo-12mp-4000x3000.jpg"


def _parts(ref: ImageRef) -> list[ImageRef]:
    levels = [derivatives.level_ref(ref, n) for n in range(1, derivatives.MAX_LEVELS + 1)]
    return [derivatives.manifest_ref(ref), *levels]


@pytest.mark.parametrize(
    "name", [PHOTO, "camera-iphone-8mp-3264x2448.jpg", "camera-canon-3mp-orient6.jpg"]
)
def test_copies_cost_at_most_40_percent(samples: Path, name: str) -> None:
    services = make_services(derivatives=True)
    ref = store(services, (samples / name).read_bytes())
    manifest = derivatives.build(services, ref)
    assert manifest.levels
    assert manifest.extra_bytes <= 0.4 * manifest.size
    stored = sum(
        len(services.storage.get(derivatives.level_ref(ref, lv.n))) for lv in manifest.levels
    )
    assert stored == manifest.extra_bytes
    assert min(max(lv.width, lv.height) for lv in manifest.levels) >= derivatives.MIN_LEVEL_SIDE


def test_the_budget_drops_the_largest_copies_first(samples: Path) -> None:
    services = make_services(derivatives=True, derivatives_max_storage=0.12)
    ref = store(services, (samples / PHOTO).read_bytes())
    manifest = derivatives.build(services, ref)
    assert [lv.n for lv in manifest.levels] == [3, 4]  # 500x375 and 250x188; ¼ would pass 12%
    assert manifest.extra_bytes <= 0.12 * manifest.size
    assert not services.storage.exists(derivatives.level_ref(ref, 2))


def test_small_or_unsuitable_originals_get_a_manifest_without_copies(samples: Path) -> None:
    services = make_services(derivatives=True)
    small = quadrant_bytes(1000, 700, "jpeg")  # under MIN_SOURCE_SIDE
    for data in (small, (samples / "photo-alpha-1200x1600.png").read_bytes()):
        ref = store(services, data)
        assert derivatives.build(services, ref).levels == ()
        assert derivatives.choose(services, ref, plan_of("resize/100x")) is None


def test_on_by_default_and_off_reads_no_copies(samples: Path) -> None:
    assert Settings().derivatives is True
    services = make_services(derivatives=True)
    ref = store(services, (samples / PHOTO).read_bytes())
    derivatives.build(services, ref)
    off = make_services(storage=services.storage, derivatives=False)
    assert derivatives.choose(off, ref, plan_of("resize/300x")) is None


def _check_follows(storage: Storage, samples: Path) -> None:
    services = make_services(storage=storage, derivatives=True)
    ref = store(services, (samples / PHOTO).read_bytes())
    manifest = derivatives.build(services, ref)
    kept = [derivatives.level_ref(ref, lv.n) for lv in manifest.levels]
    assert all(storage.exists(part) for part in [derivatives.manifest_ref(ref), *kept])
    chosen = derivatives.choose(services, ref, plan_of("resize/300x200^/crop/300x200"))
    assert chosen is not None
    assert chosen.level.n == 3  # 500x375: the smallest at least 1.25x of 300x225
    assert render_path(services, ref, "resize/300x200^/crop/300x200")
    derivatives.delete(storage, ref)
    assert not any(storage.exists(part) for part in _parts(ref))
    assert storage.exists(ref)  # the original is the catalogue's to delete
    assert derivatives.choose(services, ref, plan_of("resize/300x")) is None


def test_copies_follow_the_original_in_memory(samples: Path) -> None:
    _check_follows(MemoryStorage(), samples)


def test_copies_follow_the_original_on_a_filesystem(samples: Path, tmp_path: Path) -> None:
    storage = FilesystemStorage(tmp_path / "originals")
    _check_follows(storage, samples)
    namespaces = {
        path.relative_to(tmp_path / "originals").parts[0]
        for path in tmp_path.rglob("*")
        if path.is_file()
    }
    assert namespaces == {"originals"}  # the copies were all deleted; the original stays


@pytest.mark.s3
def test_copies_follow_the_original_in_s3(
    samples: Path, moto_endpoint: str, s3_bucket: str
) -> None:
    _check_follows(S3Storage(s3_bucket, endpoint_url=moto_endpoint, region=AWS_REGION), samples)


def test_a_copy_gone_missing_falls_back_to_the_original(samples: Path) -> None:
    services = make_services(derivatives=True)
    ref = store(services, (samples / PHOTO).read_bytes())
    derivatives.build(services, ref)
    assert derivatives.choose(services, ref, plan_of("resize/300x")) is not None
    services.storage.delete(derivatives.level_ref(ref, 3))
    assert derivatives.choose(services, ref, plan_of("resize/300x")) is None
    assert render_path(services, ref, "resize/300x")


def test_building_twice_renders_once(samples: Path) -> None:
    services = make_services(derivatives=True)
    ref = store(services, (samples / PHOTO).read_bytes())
    first = derivatives.build(services, ref)
    services.storage.delete(derivatives.level_ref(ref, 3))  # a second build would restore it
    assert derivatives.build(services, ref) == first
    assert not services.storage.exists(derivatives.level_ref(ref, 3))


class _CountingStorage(MemoryStorage):
    def __init__(self) -> None:
        super().__init__()
        self.reads: list[ImageRef] = []

    def get(self, ref: ImageRef) -> bytes:
        self.reads.append(ref)
        return super().get(ref)


def test_an_original_without_copies_is_looked_up_once(samples: Path) -> None:
    storage = _CountingStorage()
    services = make_services(storage=storage, derivatives=True)
    ref = store(services, (samples / "photo-alpha-1200x1600.png").read_bytes())
    for path in ("resize/100x", "resize/120x", "resize/140x"):  # three misses
        assert render_path(services, ref, path)
    looked_up = [read for read in storage.reads if read.namespace is Namespace.DERIVATIVES]
    assert len(looked_up) == 1  # the first miss; the PNG then is known to get none
    assert storage.reads.count(ref) == 3
