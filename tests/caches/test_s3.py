"""`S3Cache` against moto's S3 server: the cache contract, its layout, purging by prefix,
sharing between apps, settings, and an endpoint that hangs or refuses (always a quick miss)."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask.testing import FlaskClient

from images_server.app import create_app
from images_server.caches import S3Cache, build_cache
from images_server.caches.base import CachedResult
from images_server.errors import ServiceUnavailable
from images_server.settings import Settings, SettingsError, load_settings
from tests.caches.contract import VARIANT, CacheContract, image, jpeg, key, variant
from tests.conftest_s3 import AWS_REGION
from tests.images import quadrant_bytes
from tests.servers import never_answering

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

QUICK = 5.0  # seconds: a hung endpoint costs one connect (1 s) or one read (2 s)


def keys_in(client: S3Client, bucket: str, prefix: str = "") -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


@pytest.fixture
def s3_cache(moto_endpoint: str, s3_bucket: str) -> Iterator[S3Cache]:
    cache = S3Cache(s3_bucket, "cache/", moto_endpoint, AWS_REGION)
    yield cache
    cache.close()


class TestS3Cache(CacheContract):
    @pytest.fixture
    def cache(self, s3_cache: S3Cache) -> S3Cache:
        return s3_cache


def test_layout(s3_cache: S3Cache, s3_client: S3Client, s3_bucket: str) -> None:
    ref = image("a")
    s3_cache.put(key("a"), CachedResult(b"body", "image/webp"))
    path = f"cache/originals/{ref.hash[:2]}/{ref.hash}/{VARIANT}"
    assert keys_in(s3_client, s3_bucket) == [path]
    stored = s3_client.get_object(Bucket=s3_bucket, Key=path)
    assert stored["ContentType"] == "image/webp"
    assert stored["Body"].read() == b"body"


def test_variant_must_be_lowercase_hex(s3_cache: S3Cache) -> None:
    for bad in ("../../x/0123456789abcdef", "0123456789ABCDEF", ""):
        with pytest.raises(ValueError, match="variant"):
            s3_cache.get(key("a", bad))
        with pytest.raises(ValueError, match="variant"):
            s3_cache.put(key("a", bad), jpeg(b"x"))


def test_purge_touches_only_its_prefix(
    s3_cache: S3Cache, s3_client: S3Client, s3_bucket: str
) -> None:
    ref = image("a")
    original = f"originals/{ref.hash[:2]}/{ref.hash}"  # S3Storage's key in a shared bucket
    s3_client.put_object(Bucket=s3_bucket, Key=original, Body=b"original")
    s3_client.put_object(Bucket=s3_bucket, Key=f"other/{original}/{VARIANT}", Body=b"x")
    s3_cache.put(key("a", variant(1)), jpeg(b"one"))
    s3_cache.put(key("a", variant(2)), jpeg(b"two"))
    assert s3_cache.purge(ref) == 2
    assert keys_in(s3_client, s3_bucket) == [original, f"other/{original}/{VARIANT}"]


def test_purge_pages_through_more_than_a_thousand_variants(
    s3_cache: S3Cache, s3_client: S3Client, s3_bucket: str
) -> None:
    ref = image("many")
    prefix = f"cache/originals/{ref.hash[:2]}/{ref.hash}/"

    def put(n: int) -> None:
        s3_client.put_object(Bucket=s3_bucket, Key=prefix + variant(n), Body=b"v")

    with ThreadPoolExecutor(max_workers=16) as pool:  # boto3 clients are thread-safe
        list(pool.map(put, range(1003)))
    assert s3_cache.purge(ref) == 1003
    assert keys_in(s3_client, s3_bucket, prefix) == []


def test_an_object_without_a_media_type_is_a_miss(
    s3_cache: S3Cache, s3_client: S3Client, s3_bucket: str
) -> None:
    ref = image("a")
    path = f"cache/originals/{ref.hash[:2]}/{ref.hash}/{VARIANT}"
    s3_client.put_object(Bucket=s3_bucket, Key=path, Body=b"x", ContentType="nonsense")
    assert s3_cache.get(key("a")) is None


def test_a_missing_bucket_is_a_miss_and_fails_the_check(
    moto_endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    cache = S3Cache("no-such-bucket", "cache/", moto_endpoint, AWS_REGION)
    with caplog.at_level(logging.WARNING):
        assert cache.get(key("a")) is None
        cache.put(key("a"), jpeg(b"x"))  # skipped: logged once, never raised
    assert "NoSuchBucket" in caplog.text
    with pytest.raises(ServiceUnavailable, match="no-such-bucket"):
        cache.check()
    with pytest.raises(ServiceUnavailable, match="purge"):
        cache.purge(image("a"))


@pytest.fixture
def hung_endpoint() -> Iterator[str]:
    """An S3 endpoint that takes connections and never answers."""
    with never_answering() as address:
        yield f"http://{address}"


def test_a_hung_endpoint_is_a_quick_miss_then_skipped(
    hung_endpoint: str, aws_env: None, caplog: pytest.LogCaptureFixture
) -> None:
    cache = S3Cache("bucket", "cache/", hung_endpoint, AWS_REGION)
    with caplog.at_level(logging.WARNING):
        started = time.monotonic()
        assert cache.get(key("a")) is None
        first = time.monotonic() - started
        started = time.monotonic()
        assert cache.get(key("b")) is None
        cache.put(key("b"), jpeg(b"x"))
        after = time.monotonic() - started
    assert first < QUICK, f"the first miss took {first:.1f} s"
    assert after < 0.1, f"a cache known to be down still took {after:.2f} s"
    assert "skipping the cache" in caplog.text
    assert hung_endpoint not in caplog.text  # endpoint URLs may hold credentials
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable):
        cache.purge(image("a"))  # a purge must not claim success
    assert time.monotonic() - started < QUICK
    cache.close()


def test_a_put_that_fails_is_logged_and_the_cache_comes_back(
    hung_endpoint: str, aws_env: None, caplog: pytest.LogCaptureFixture
) -> None:
    cache = S3Cache("bucket", "", hung_endpoint, AWS_REGION, cool_off=0.2)
    with caplog.at_level(logging.WARNING):
        started = time.monotonic()
        cache.put(key("a"), jpeg(b"x"))
        assert time.monotonic() - started < QUICK
    assert "S3 result cache write" in caplog.text
    time.sleep(0.3)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert cache.get(key("a")) is None  # asked again once the cool-off is over
    assert "S3 result cache read" in caplog.text
    cache.close()


# Settings and the registry.


def test_registry_builds_it_from_settings(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, cache="s3", s3_bucket="originals", cache_s3_prefix="variants"
    )
    cache = build_cache(settings)
    assert isinstance(cache, S3Cache)
    assert (cache.bucket, cache.prefix) == ("originals", "variants/")
    own = build_cache(Settings(data_dir=tmp_path, cache="s3", cache_s3_bucket="results"))
    assert isinstance(own, S3Cache)
    assert (own.bucket, own.prefix) == ("results", "cache/")


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"cache": "s3"}, "IMAGES_CACHE_S3_BUCKET"),
        (
            {"cache": "s3", "storage": "s3", "s3_bucket": "b", "cache_s3_prefix": ""},
            "IMAGES_CACHE_S3_PREFIX",
        ),
        ({"cache": "s3", "cache_s3_bucket": "b", "cache_s3_prefix": "/abs"}, "PREFIX"),
        ({"cache": "s3", "cache_s3_bucket": "b", "cache_s3_prefix": "a/../b"}, "PREFIX"),
    ],
)
def test_settings_refuse_what_cannot_work(
    tmp_path: Path, values: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(data_dir=tmp_path, **values)
    assert named in str(raised.value)


def test_its_own_bucket_may_have_no_prefix(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, cache="s3", storage="s3", s3_bucket="o", cache_s3_bucket="c",
        cache_s3_prefix="",
    )  # fmt: skip
    assert settings.cache_s3_prefix == ""


# Two app instances sharing the S3 storage, the S3 cache and the data dir (their database).


def make_client(root: Path, moto_endpoint: str, bucket: str) -> FlaskClient:
    settings = Settings(
        data_dir=root / "data",
        storage="s3",
        s3_bucket=bucket,
        s3_endpoint_url=moto_endpoint,
        s3_region=AWS_REGION,
        cache="s3",
        eager_presets=(),
    )
    return create_app(settings).test_client()


def test_instances_share_variants_and_delete_clears_them(
    tmp_path: Path, moto_endpoint: str, s3_bucket: str, s3_client: S3Client
) -> None:
    first = make_client(tmp_path, moto_endpoint, s3_bucket)
    second = make_client(tmp_path, moto_endpoint, s3_bucket)
    upload = first.post("/upload", data=quadrant_bytes(64, 48, "png"), content_type="image/png")
    assert upload.status_code == 201, upload.get_data(as_text=True)
    hash_ = upload.get_json()["hash"]
    pipelines = ("resize/32x", "resize/16x/format/webp")
    for pipeline in pipelines:
        assert first.get(f"/image/{hash_}/{pipeline}").status_code == 200
    variants = keys_in(s3_client, s3_bucket, f"cache/originals/{hash_[:2]}/{hash_}/")
    assert len(variants) == 2
    # The other instance serves what the first stored: prove it by changing the stored bytes.
    s3_client.put_object(
        Bucket=s3_bucket, Key=variants[0], Body=b"from the shared cache", ContentType="image/png"
    )
    served = {second.get(f"/image/{hash_}/{pipeline}").data for pipeline in pipelines}
    assert b"from the shared cache" in served
    purged = second.post(f"/image/{hash_}/purge")
    assert purged.status_code == 200
    assert purged.get_json()["purged"]["result_cache"] == 2
    assert first.get(f"/image/{hash_}/resize/32x").status_code == 200  # stored again
    assert second.delete(f"/image/{hash_}").status_code == 200
    assert keys_in(s3_client, s3_bucket, "cache/") == []


def test_the_readme_lifecycle_rule_is_accepted(s3_client: S3Client, s3_bucket: str) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("\n### A shared result cache on S3\n", 1)[1]
    found = re.search(r"'(\{\"Rules\".*?\})'", section)
    assert found is not None
    rule = json.loads(found.group(1))
    s3_client.put_bucket_lifecycle_configuration(Bucket=s3_bucket, LifecycleConfiguration=rule)
    stored = s3_client.get_bucket_lifecycle_configuration(Bucket=s3_bucket)["Rules"]
    assert [r["Filter"] for r in stored] == [{"Prefix": "cache/"}]  # the prefix, never the bucket
    assert stored[0]["Expiration"]["Days"] == 30


def test_readiness_heads_the_cache_bucket(
    tmp_path: Path, moto_endpoint: str, s3_bucket: str
) -> None:
    def readyz(bucket: str) -> tuple[int, dict[str, str]]:
        settings = Settings(
            data_dir=tmp_path,
            cache="s3",
            cache_s3_bucket=bucket,
            s3_endpoint_url=moto_endpoint,
            s3_region=AWS_REGION,
        )
        response = create_app(settings).test_client().get("/readyz")
        return response.status_code, response.get_json()["checks"]

    status, checks = readyz(s3_bucket)
    assert status == 200
    assert checks["cache"] == "ok"
    status, checks = readyz("no-such-bucket")
    assert status == 503
    assert list(checks) == ["cache"]  # only what is down is named; the originals are fine
    assert "no-such-bucket" in checks["cache"]
