"""Originals in an S3 bucket (AWS, MinIO, moto), keyed `namespace/ab/abcd…`.

Credentials come from the standard AWS chain (environment, config files, instance roles). The
client has short timeouts and one retry, so a dead or hung endpoint fails a request in seconds
(at most about `ATTEMPTS * (CONNECT_TIMEOUT + READ_TIMEOUT)` plus a backoff under a second: 9 s
for an endpoint that accepts connections and never answers) rather than holding a worker until
gunicorn kills it (docs/api.md §8). `READ_TIMEOUT` bounds each wait for bytes, not a whole
transfer, so a large original that keeps flowing is not cut off.

botocore errors are mapped here, at the boundary: a missing key is `ImageNotFound`,
everything else (unreachable or hung endpoint, missing bucket, denied access, other client
errors) is `ServiceUnavailable` (503) with a message naming the bucket and error code only.
Creating the bucket is the operator's job; this class never does it.

boto3 itself is imported by `make_client`, when a client is first made: the result cache
imports this module for its helpers whatever the cache is, and only botocore's exceptions are
needed for that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    HTTPClientError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from images_server.errors import ImageNotFound, ServiceUnavailable
from images_server.hashing import ImageRef

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CONNECT_TIMEOUT = 2.0  # seconds
READ_TIMEOUT = 4.0  # seconds any one read may wait for the next bytes
ATTEMPTS = 2  # the first attempt and one retry (botocore's standard mode, with backoff)

MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


def object_key(ref: ImageRef) -> str:
    return f"{ref.namespace.value}/{ref.hash[:2]}/{ref.hash}"


def make_client(
    endpoint_url: str | None = None,
    region: str | None = None,
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
    attempts: int = ATTEMPTS,
) -> S3Client:
    """An S3 client with short timeouts and few retries; credentials from the AWS chain."""
    import boto3.session
    from botocore.config import Config

    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"total_max_attempts": attempts, "mode": "standard"},
    )
    # A session of our own: boto3's default session is not safe to share across threads.
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint_url, region_name=region, config=config
    )


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "")) or "unknown"


class S3Storage:
    """The `Storage` of originals in one bucket; pass a `make_client` client to share one."""

    def __init__(
        self,
        bucket: str,
        endpoint_url: str | None = None,
        region: str | None = None,
        client: S3Client | None = None,
    ) -> None:
        self.bucket = bucket
        self._owns_client = client is None
        self._client = client if client is not None else make_client(endpoint_url, region)

    def put(self, ref: ImageRef, data: bytes) -> None:
        try:
            self._client.put_object(Bucket=self.bucket, Key=object_key(ref), Body=data)
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable("put", exc) from exc

    def get(self, ref: ImageRef) -> bytes:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=object_key(ref))
            body = response["Body"]
            try:
                return body.read()
            finally:
                body.close()
        except ClientError as exc:
            if error_code(exc) in MISSING_CODES:
                raise ImageNotFound() from exc
            raise self._unavailable("get", exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable("get", exc) from exc

    def exists(self, ref: ImageRef) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=object_key(ref))
        except ClientError as exc:
            if error_code(exc) in MISSING_CODES:
                return False
            raise self._unavailable("head", exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable("head", exc) from exc
        return True

    def delete(self, ref: ImageRef) -> bool:
        # S3 deletes are idempotent and do not say whether anything was there: ask first.
        if not self.exists(ref):
            return False
        try:
            self._client.delete_object(Bucket=self.bucket, Key=object_key(ref))
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable("delete", exc) from exc
        return True

    def check(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if error_code(exc) in {"404", "NoSuchBucket"}:
                message = f"S3 bucket {self.bucket!r} does not exist"
                raise ServiceUnavailable(message) from exc
            raise self._unavailable("bucket check", exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable("bucket check", exc) from exc

    def close(self) -> None:
        """Release the HTTP connection pool of a client this storage created."""
        if self._owns_client:
            self._client.close()

    def _unavailable(self, action: str, exc: ClientError | BotoCoreError) -> ServiceUnavailable:
        # Only the bucket and an error code or class: endpoint URLs may embed credentials.
        if isinstance(exc, ClientError):
            reason = f"error {error_code(exc)}"
        elif isinstance(exc, ReadTimeoutError | ConnectTimeoutError):
            reason = f"endpoint did not answer in time ({type(exc).__name__})"
        elif isinstance(exc, BotoConnectionError | HTTPClientError):
            reason = f"endpoint unreachable ({type(exc).__name__})"
        else:
            reason = type(exc).__name__
        return ServiceUnavailable(f"S3 {action} on bucket {self.bucket!r} failed: {reason}")
