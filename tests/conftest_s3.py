"""Pytest plugin: a real moto S3 server over HTTP on loopback, for the `s3`-marked tests.

List it in `pytest_plugins`. `aws_env` gives the test process dummy AWS credentials and region
and hides any real AWS configuration, restoring everything at the end of the session.
`moto_endpoint` starts `moto_server` on a free port once per session and yields its URL; it
fails (never skips) when the binary is missing or the server does not answer, because a
silently skipped S3 suite would hide a broken storage. `s3_bucket` makes a fresh bucket per
test and `s3_client` is a plain boto3 client for setting up and inspecting it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import boto3.session
import pytest

from tests.servers import free_port, stop

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

AWS_REGION = "us-east-1"
_START_TIMEOUT = 30.0
_HIDDEN_AWS_VARIABLES = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_CA_BUNDLE",
)


def _moto_server_binary() -> str:
    beside_python = Path(sys.executable).parent / "moto_server"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    found = shutil.which("moto_server")
    if found is None:
        pytest.fail(
            "moto_server not found next to the interpreter or on PATH: pip install moto[server]"
        )
    return found


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is up
    except OSError:
        return False


def _wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"moto_server exited with {process.returncode}:\n{log.read_text()}")
        if _answers(url):
            return
        time.sleep(0.1)
    pytest.fail(f"moto_server did not answer within {_START_TIMEOUT:.0f}s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def aws_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    missing = tmp_path_factory.mktemp("aws") / "absent"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret")
        patch.setenv("AWS_DEFAULT_REGION", AWS_REGION)
        patch.setenv("AWS_CONFIG_FILE", str(missing))
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(missing))
        for name in _HIDDEN_AWS_VARIABLES:
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(scope="session")
def moto_endpoint(aws_env: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = _moto_server_binary()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("moto") / "moto_server.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [binary, "-H", "127.0.0.1", "-p", str(port)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        _wait_until_up(process, url, log)
        yield url
    finally:
        stop(process, timeout=10)


@pytest.fixture(scope="session")
def s3_client(moto_endpoint: str) -> Iterator[S3Client]:
    client = boto3.session.Session().client(
        "s3", endpoint_url=moto_endpoint, region_name=AWS_REGION
    )
    yield client
    client.close()


@pytest.fixture
def s3_bucket(s3_client: S3Client) -> str:
    name = f"test-{uuid.uuid4().hex[:20]}"
    s3_client.create_bucket(Bucket=name)
    return name
