"""`S3Storage` against a real moto server over HTTP, plus its error mapping.

The contract runs against `moto_server` on loopback (see `tests/conftest_s3.py`); the failure
tests use a missing bucket, a closed local port and botocore's `Stubber` for codes moto does
not produce (access denied).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import boto3.session
import pytest
from botocore.stub import Stubber

from images_server.errors import ImageNotFound, ServiceUnavailable
from images_server.hashing import Namespace
from images_server.storages.s3 import S3Storage, make_client, object_key
from tests import conftest_s3
from tests.conftest_s3 import AWS_REGION
from tests.servers import free_port
from tests.storages.contract import StorageContract, ref_for

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = pytest.mark.s3


@pytest.fixture(scope="session")
def storage_client(moto_endpoint: str) -> Iterator[S3Client]:
    """One client configured exactly as `S3Storage` makes its own, shared to save setup time."""
    client = make_client(moto_endpoint, AWS_REGION)
    yield client
    client.close()


@pytest.fixture
def s3_storage(storage_client: S3Client, s3_bucket: str) -> S3Storage:
    return S3Storage(s3_bucket, client=storage_client)


class TestS3Storage(StorageContract):
    @pytest.fixture
    def storage(self, s3_storage: S3Storage) -> S3Storage:
        return s3_storage


def test_key_layout(s3_storage: S3Storage, s3_client: S3Client) -> None:
    ref = ref_for(b"keyed", Namespace.EXTERNAL)
    s3_storage.put(ref, b"keyed")
    listed = s3_client.list_objects_v2(Bucket=s3_storage.bucket)
    keys = [item.get("Key") for item in listed.get("Contents", [])]
    assert keys == [f"external/{ref.hash[:2]}/{ref.hash}"]
    assert object_key(ref) == keys[0]


def test_missing_bucket_is_service_unavailable(moto_endpoint: str) -> None:
    # The storage builds its own client here: the path production takes.
    storage = S3Storage("no-such-bucket-here", endpoint_url=moto_endpoint, region=AWS_REGION)
    try:
        with pytest.raises(ServiceUnavailable, match="does not exist"):
            storage.check()
        with pytest.raises(ServiceUnavailable, match="NoSuchBucket"):
            storage.get(ref_for(b"anything"))
        with pytest.raises(ServiceUnavailable, match="NoSuchBucket"):
            storage.put(ref_for(b"anything"), b"anything")
    finally:
        storage.close()


@pytest.fixture
def unreachable(aws_env: None) -> Iterator[S3Storage]:
    endpoint = f"http://user:hunter2@127.0.0.1:{free_port()}"  # nothing listens there
    storage = S3Storage("bucket", endpoint_url=endpoint, region=AWS_REGION)
    yield storage
    storage.close()


def test_unreachable_endpoint_fails_get_quickly(unreachable: S3Storage) -> None:
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable, match="unreachable") as caught:
        unreachable.get(ref_for(b"anything"))
    assert time.monotonic() - started < 15
    assert "hunter2" not in caught.value.message
    assert "testing-secret" not in caught.value.message


def test_unreachable_endpoint_fails_check_quickly(unreachable: S3Storage) -> None:
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable, match="unreachable"):
        unreachable.check()
    assert time.monotonic() - started < 15


def test_unreachable_endpoint_fails_every_operation(unreachable: S3Storage) -> None:
    ref = ref_for(b"anything")
    with pytest.raises(ServiceUnavailable):
        unreachable.put(ref, b"anything")
    with pytest.raises(ServiceUnavailable):
        unreachable.exists(ref)
    with pytest.raises(ServiceUnavailable):
        unreachable.delete(ref)


@pytest.fixture
def stubbed(aws_env: None) -> Iterator[tuple[S3Storage, Stubber]]:
    client = boto3.session.Session().client(
        "s3", endpoint_url="http://127.0.0.1:9", region_name=AWS_REGION
    )
    with Stubber(client) as stubber:
        yield S3Storage("bucket", client=client), stubber
    client.close()


@pytest.mark.parametrize(
    ("operation", "s3_call", "code", "status"),
    [
        ("get", "get_object", "AccessDenied", 403),
        ("get", "get_object", "InternalError", 500),
        ("exists", "head_object", "403", 403),
        ("put", "put_object", "AccessDenied", 403),
    ],
)
def test_client_errors_are_service_unavailable(
    stubbed: tuple[S3Storage, Stubber], operation: str, s3_call: str, code: str, status: int
) -> None:
    storage, stubber = stubbed
    stubber.add_client_error(s3_call, service_error_code=code, http_status_code=status)
    ref = ref_for(b"anything")
    call = getattr(storage, operation)
    args = (ref, b"anything") if operation == "put" else (ref,)
    with pytest.raises(ServiceUnavailable, match=code):
        call(*args)


def test_missing_key_codes_are_image_not_found(stubbed: tuple[S3Storage, Stubber]) -> None:
    storage, stubber = stubbed
    stubber.add_client_error("get_object", service_error_code="NoSuchKey", http_status_code=404)
    stubber.add_client_error("get_object", service_error_code="404", http_status_code=404)
    for _ in range(2):
        with pytest.raises(ImageNotFound):
            storage.get(ref_for(b"anything"))


def test_denied_bucket_check_is_service_unavailable(stubbed: tuple[S3Storage, Stubber]) -> None:
    storage, stubber = stubbed
    stubber.add_client_error("head_bucket", service_error_code="403", http_status_code=403)
    with pytest.raises(ServiceUnavailable, match="403"):
        storage.check()


def test_moto_fixture_fails_rather_than_skips_without_the_binary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match="moto_server not found"):
        conftest_s3._moto_server_binary()
