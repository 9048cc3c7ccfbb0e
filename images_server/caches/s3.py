"""Rendered variants in an S3 bucket under a prefix: the result cache every instance shares.

An entry is one object, `<prefix><namespace>/ab/<hash>/<variant>`, whose body is the variant
and whose `Content-Type` is its media type; `purge` lists `<prefix><namespace>/ab/<hash>/` and
deletes what it finds. The size is bounded by the bucket's lifecycle rules, not by this class
(README, "A shared result cache on S3"): an expiration on the prefix drops variants some days
after they were written, whether or not they are still read, and the next request renders
them again. `IMAGES_CACHE_MAX_BYTES` does not apply.

The cache must never fail a request that could render, nor make it slow: the client has a 1 s
connect and 2 s read timeout and no retry, a failed `get` is logged and served as a miss, a
failed `put` is logged and dropped, and after any failure the cache stays out of the way
(every `get` a miss, every `put` skipped) for `COOL_OFF` seconds, so a hung endpoint costs one
request about 3 s and the requests after it nothing. `purge` is different: DELETE and `/purge`
promise the variants are gone, so a failed purge raises `ServiceUnavailable` (503) and the
client tries again. Creating the bucket and its lifecycle rule is the operator's job.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from images_server.caches.base import CachedResult, CacheKey
from images_server.errors import ServiceUnavailable
from images_server.hashing import ImageRef
from images_server.storages.s3 import MISSING_CODES, error_code, make_client

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 1.0  # seconds
READ_TIMEOUT = 2.0  # seconds any one read may wait for the next bytes
ATTEMPTS = 1  # no retry: a miss is cheaper than waiting twice
COOL_OFF = 10.0  # seconds the cache is skipped after a failure
_DELETE_BATCH = 1000  # the most keys one DeleteObjects takes

_VARIANT = re.compile(r"[0-9a-f]{16,128}")
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*", re.IGNORECASE)


def make_cache_client(endpoint_url: str | None = None, region: str | None = None) -> S3Client:
    """An S3 client with the cache's tight timeouts; credentials from the AWS chain."""
    return make_client(endpoint_url, region, CONNECT_TIMEOUT, READ_TIMEOUT, ATTEMPTS)


def _reason(exc: ClientError | BotoCoreError) -> str:
    # Only an error code or class: endpoint URLs may embed credentials.
    return f"error {error_code(exc)}" if isinstance(exc, ClientError) else type(exc).__name__


class S3Cache:
    """The `ResultCache` in `bucket` under `prefix` (empty, or ending in `/`)."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "cache/",
        endpoint_url: str | None = None,
        region: str | None = None,
        client: S3Client | None = None,
        cool_off: float = COOL_OFF,
    ) -> None:
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        self.bucket = bucket
        self.prefix = prefix
        self.cool_off = cool_off
        self._client = client if client is not None else make_cache_client(endpoint_url, region)
        self._lock = threading.Lock()
        self._skip_until = 0.0  # monotonic time before which the cache is not asked

    def get(self, key: CacheKey) -> CachedResult | None:
        object_key = self._entry_key(key)
        if self._skipping():
            return None
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=object_key)
            body = response["Body"]
            try:
                data = body.read()
            finally:
                body.close()
        except ClientError as exc:
            if error_code(exc) in MISSING_CODES:
                return None
            self._failed("read", exc)
            return None
        except BotoCoreError as exc:
            self._failed("read", exc)
            return None
        media_type = str(response.get("ContentType", ""))
        if not _MEDIA_TYPE.fullmatch(media_type):
            _log.warning("ignoring a result cache object without a media type")
            return None
        return CachedResult(data, media_type)

    def put(self, key: CacheKey, result: CachedResult) -> None:
        object_key = self._entry_key(key)
        if not _MEDIA_TYPE.fullmatch(result.media_type):
            raise ValueError(f"not a cacheable media type: {result.media_type!r}")
        if self._skipping():
            return
        try:
            self._client.put_object(
                Bucket=self.bucket,
                Key=object_key,
                Body=result.body,
                ContentType=result.media_type,
            )
        except (ClientError, BotoCoreError) as exc:
            self._failed("write", exc)

    def purge(self, image: ImageRef) -> int:
        prefix = self._image_prefix(image)
        removed = 0
        try:
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                keys = [item["Key"] for item in page.get("Contents", []) if "Key" in item]
                for start in range(0, len(keys), _DELETE_BATCH):
                    removed += self._delete(keys[start : start + _DELETE_BATCH])
        except (ClientError, BotoCoreError) as exc:
            message = f"S3 result cache purge on bucket {self.bucket!r} failed: {_reason(exc)}"
            raise ServiceUnavailable(message) from exc
        return removed

    def check(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            message = f"S3 result cache bucket {self.bucket!r} is not usable: {_reason(exc)}"
            raise ServiceUnavailable(message) from exc

    def close(self) -> None:
        self._client.close()

    def _delete(self, keys: list[str]) -> int:
        if not keys:
            return 0
        answer = self._client.delete_objects(
            Bucket=self.bucket,
            Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True},
        )
        errors = answer.get("Errors", [])
        if errors:
            raise ServiceUnavailable(
                f"S3 result cache purge on bucket {self.bucket!r} left {len(errors)} "
                f"variants (error {errors[0].get('Code', 'unknown')})"
            )
        return len(keys)

    def _skipping(self) -> bool:
        with self._lock:
            return time.monotonic() < self._skip_until

    def _failed(self, action: str, exc: ClientError | BotoCoreError) -> None:
        with self._lock:
            self._skip_until = time.monotonic() + self.cool_off
        _log.warning(
            "S3 result cache %s on bucket %r failed (%s); skipping the cache for %.0f s",
            action,
            self.bucket,
            _reason(exc),
            self.cool_off,
        )

    def _image_prefix(self, image: ImageRef) -> str:
        return f"{self.prefix}{image.namespace.value}/{image.hash[:2]}/{image.hash}/"

    def _entry_key(self, key: CacheKey) -> str:
        if not _VARIANT.fullmatch(key.variant):
            raise ValueError("a cache variant must be 16 to 128 lowercase hex characters")
        return self._image_prefix(key.image) + key.variant
