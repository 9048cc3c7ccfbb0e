"""JSON log lines: the request id (taken from `X-Request-ID` when safe, else made) is sent
back and is in the access line and in error lines logged while serving the request."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from images_server.app import create_app
from images_server.observability import logs
from images_server.observability.logs import ACCESS_LOGGER, JsonFormatter
from images_server.settings import Settings
from tests.images import quadrant_bytes


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """What the access and error loggers write, through the JSON formatter, at INFO."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger(ACCESS_LOGGER), logging.getLogger("images_server.http.errors")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    yield stream
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


def _records(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_an_incoming_request_id_is_echoed_and_logged(
    obs_client: FlaskClient, lines: io.StringIO
) -> None:
    response = obs_client.get("/healthz?x=1", headers={"X-Request-ID": "edge-42.a_b"})
    assert response.headers["X-Request-ID"] == "edge-42.a_b"
    (access,) = _records(lines)
    assert access["logger"] == ACCESS_LOGGER
    assert access["level"] == "info"
    expected = {"method": "GET", "route": "/healthz", "path": "/healthz", "status": 200}
    assert {key: access[key] for key in expected} == expected
    assert access["request_id"] == "edge-42.a_b"
    assert access["bytes"] == len(response.data)
    assert access["client"] == "127.0.0.1"
    assert isinstance(access["duration_ms"], float)
    assert access["duration_ms"] >= 0


def test_the_access_line_names_the_client_rate_limits_count(
    obs_client: FlaskClient, lines: io.StringIO
) -> None:
    """An IPv6 peer by its /64, as the rate limiter counts it (`http.clients.client_id`)."""
    environ = {"REMOTE_ADDR": "2001:db8:1:2:aaaa:bbbb:cccc:dddd"}
    obs_client.get("/healthz", environ_base=environ)
    (access,) = _records(lines)
    assert access["client"] == "2001:db8:1:2::/64"


@pytest.mark.parametrize("header", ["x" * 129, "has space", "semi;colon", "ünïcode", ""], ids=repr)
def test_an_unsafe_request_id_is_replaced(
    obs_client: FlaskClient, lines: io.StringIO, header: str
) -> None:
    response = obs_client.get("/healthz", headers={"X-Request-ID": header})
    made = response.headers["X-Request-ID"]
    assert made != header
    assert len(made) == 32
    int(made, 16)  # a uuid4 hex
    assert _records(lines)[0]["request_id"] == made


def test_every_response_carries_a_request_id(obs_client: FlaskClient) -> None:
    ids = {
        obs_client.get("/healthz").headers["X-Request-ID"],
        obs_client.get("/no/such/route").headers["X-Request-ID"],
        obs_client.post("/upload", data=b"", content_type="image/png").headers["X-Request-ID"],
    }
    assert len(ids) == 3  # one each, and different


def test_an_error_line_carries_the_request_id(obs_app: Flask, lines: io.StringIO) -> None:
    def boom() -> str:
        raise RuntimeError("kaboom")

    obs_app.add_url_rule("/boom", "boom", boom)
    with obs_app.test_client() as client:
        response = client.get("/boom", headers={"X-Request-ID": "req-7"})
    assert response.status_code == 500
    error, access = _records(lines)
    assert error["level"] == "error"
    assert error["request_id"] == "req-7"
    assert "RuntimeError: kaboom" in str(error["exception"])
    assert (access["request_id"], access["status"], access["route"]) == ("req-7", 500, "/boom")


def test_a_backing_service_failure_is_logged_with_its_cause(
    tmp_path: Path, lines: io.StringIO
) -> None:
    data_dir = tmp_path / "data"
    app = create_app(Settings(data_dir=data_dir, engine="vips"))
    (data_dir / "originals").write_text("a file where the originals folder should be")
    with app.test_client() as client:
        response = client.post("/upload", data=quadrant_bytes(8, 6), content_type="image/png")
    assert response.status_code == 503
    error, access = _records(lines)
    assert (error["level"], access["status"]) == ("error", 503)
    assert str(error["message"]).startswith("503 service_unavailable: ")
    assert "Error" in str(error["cause"])  # the OS error underneath, by name


def test_the_access_line_written_straight_is_the_logging_line(
    obs_app: Flask, lines: io.StringIO
) -> None:
    """With the one JSON stream `logging_config` sets up, the access line skips `logging`'s
    records; with anything else listening (here a filter), `logging` writes it: the same line
    either way, but for its time."""
    access = logging.getLogger(ACCESS_LOGGER)
    fields = {"method": "GET", "route": "/r", "path": "/p?", "status": 200, "duration_ms": 1.5}
    fields |= {"bytes": 10, "request_id": "rid-1", "client": "127.0.0.1"}
    propagate = access.propagate
    access.propagate = False  # as logging_config has it
    try:
        with obs_app.test_request_context("/p"):
            assert logs._plain_json_stream() is not None  # written straight
            logs.log_access(**fields)
            access.addFilter(lambda record: True)
            assert logs._plain_json_stream() is None
            try:
                logs.log_access(**fields)
            finally:
                access.filters.clear()
    finally:
        access.propagate = propagate
    straight, through_logging = _records(lines)
    for record in (straight, through_logging):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", str(record.pop("time")))
    assert straight == through_logging
    assert list(straight) == ["level", "logger", "message", *fields]
    assert straight["message"] == "GET /p? 200"
