"""The `Limiter`: limits per kind and client, `Retry-After`, `0` is off, Redis shared and down.

Every behaviour test runs against both stores, `memory://` and a real `redis://`.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable

import pytest

from images_server.errors import RateLimited, ServiceUnavailable
from images_server.security.ratelimit import Kind, Limiter
from images_server.settings import Settings, SettingsError, load_settings
from tests.conftest_redis import RedisServer


@pytest.fixture(params=["memory", "redis"])
def storage_url(request: pytest.FixtureRequest) -> str:
    if request.param == "redis":
        return str(request.getfixturevalue("redis_url"))
    return "memory://"


def limiter(storage_url: str, **limits: str) -> Limiter:
    kinds: dict[Kind, str] = {}
    for kind in ("upload", "external", "render"):
        if kind in limits:
            kinds[kind] = limits[kind]
    return Limiter(kinds, storage_url)


def refused(check: Callable[[], None]) -> RateLimited:
    with pytest.raises(RateLimited) as caught:
        check()
    return caught.value


def test_the_hit_past_the_limit_is_refused_with_retry_after(storage_url: str) -> None:
    limits = limiter(storage_url, upload="3/minute")
    for _ in range(3):
        limits.check("upload", "198.51.100.1")
    error = refused(lambda: limits.check("upload", "198.51.100.1"))
    assert (error.status, error.code) == (429, "rate_limited")
    assert 58 <= error.retry_after <= 60
    assert "3 per 1 minute" in error.message
    assert "uploads" in error.message


def test_counts_are_per_client_and_per_kind(storage_url: str) -> None:
    limits = limiter(storage_url, upload="2/minute", render="2/minute")
    for _ in range(2):
        limits.check("upload", "a")
    refused(lambda: limits.check("upload", "a"))
    limits.check("upload", "b")  # another client has its own count
    limits.check("render", "a")  # and so has another kind


def test_a_slot_frees_when_the_window_moves(storage_url: str) -> None:
    limits = limiter(storage_url, render="3/minute;2/second")
    limits.check("render", "c")
    limits.check("render", "c")
    assert refused(lambda: limits.check("render", "c")).retry_after == 1
    refused(lambda: limits.check("render", "c"))  # refused hits count against neither limit...
    time.sleep(1.05)
    limits.check("render", "c")  # ...so the wait is the window, and the minute has room for one
    error = refused(lambda: limits.check("render", "c"))
    assert "3 per 1 minute" in error.message


def test_every_limit_of_a_list_applies(storage_url: str) -> None:
    limits = limiter(storage_url, external="5/minute;2/hour")
    limits.check("external", "d")
    limits.check("external", "d")
    error = refused(lambda: limits.check("external", "d"))
    assert "2 per 1 hour" in error.message
    assert 3590 <= error.retry_after <= 3600


def test_zero_turns_a_kind_off(storage_url: str) -> None:
    limits = limiter(storage_url, upload="0", render="1/minute")
    for _ in range(50):
        limits.check("upload", "e")
        limits.check("external", "e")  # a kind with no limit at all
    limits.check("render", "e")
    refused(lambda: limits.check("render", "e"))


def test_check_storage_passes_while_the_store_answers(storage_url: str) -> None:
    limiter(storage_url).check_storage()


def test_two_limiters_on_one_redis_share_the_count(redis_url: str) -> None:
    """Two gunicorn workers each build a Limiter; with Redis they count together."""
    first, second = (limiter(redis_url, upload="3/minute") for _ in range(2))
    first.check("upload", "f")
    second.check("upload", "f")
    first.check("upload", "f")
    refused(lambda: second.check("upload", "f"))


def test_two_memory_limiters_count_alone() -> None:
    first, second = (limiter("memory://", upload="1/minute") for _ in range(2))
    first.check("upload", "g")
    second.check("upload", "g")
    refused(lambda: first.check("upload", "g"))


def test_fails_open_when_redis_goes_down(
    start_redis: Callable[[], RedisServer], caplog: pytest.LogCaptureFixture
) -> None:
    server = start_redis()
    limits = limiter(server.url, upload="1/minute")
    limits.check("upload", "h")
    refused(lambda: limits.check("upload", "h"))
    server.stop()
    with caplog.at_level(logging.WARNING, logger="images_server.security.ratelimit"):
        for _ in range(20):
            limits.check("upload", "h")  # allowed: serving beats limiting
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1  # once a minute, not once a request
    assert "rate-limit store failed" in warnings[0].getMessage()
    with pytest.raises(ServiceUnavailable):
        limits.check_storage()


def test_limits_come_from_settings() -> None:
    settings = Settings(
        rate_limit_uploads="1/minute", rate_limit_external="0", rate_limit_renders="2/minute"
    )
    limits = Limiter.from_settings(settings)
    client = uuid.uuid4().hex
    limits.check("upload", client)
    refused(lambda: limits.check("upload", client))
    for _ in range(5):
        limits.check("external", client)
    limits.check("render", client)
    limits.check("render", client)
    refused(lambda: limits.check("render", client))


def test_settings_parse_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGES_RATE_LIMIT_UPLOADS", "10/second; 100/minute")
    monkeypatch.setenv("IMAGES_RATE_LIMIT_RENDERS", " 0 ")
    monkeypatch.setenv("IMAGES_RATE_LIMIT_STORAGE_URL", "redis://127.0.0.1:6379")
    monkeypatch.setenv("IMAGES_TRUSTED_PROXIES", "1")
    settings = load_settings()
    assert settings.rate_limit_uploads == "10/second; 100/minute"
    assert settings.rate_limit_renders == "0"
    assert settings.rate_limit_storage_url == "redis://127.0.0.1:6379"
    assert settings.trusted_proxies == 1


def test_settings_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("IMAGES_"):
            monkeypatch.delenv(name)
    defaults = load_settings()
    assert (defaults.rate_limit_uploads, defaults.rate_limit_external) == (
        "60/minute",
        "120/minute",
    )
    assert defaults.rate_limit_renders == "0"  # off: render admission bounds the work instead
    assert (defaults.rate_limit_storage_url, defaults.trusted_proxies) == ("memory://", 0)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("IMAGES_RATE_LIMIT_UPLOADS", "lots"),
        ("IMAGES_RATE_LIMIT_EXTERNAL", "10/fortnight"),
        ("IMAGES_RATE_LIMIT_RENDERS", "-1"),
        ("IMAGES_TRUSTED_PROXIES", "-1"),
    ],
)
def test_bad_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings()


def test_an_unknown_store_is_refused() -> None:
    with pytest.raises(ValueError, match="IMAGES_RATE_LIMIT_STORAGE_URL"):
        Limiter({}, "memcached://127.0.0.1:11211")
