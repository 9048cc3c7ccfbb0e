"""Helpers for the hung-service tests: freezing a process tree, timing requests, and what a
503 from a backing service must look like.

A frozen process (SIGSTOP) is the nastiest failure a client meets: its kernel still accepts
connections and acknowledges what is sent, and nothing ever answers. `frozen` always thaws
what it froze, even when the test fails, so no server is left stopped.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import requests

RETRY_AFTER = "5"  # what every 503 says (images_server.http.errors.RETRY_AFTER_503)


@dataclass(frozen=True)
class Answer:
    """What a client saw: status, headers, body, and how long it waited."""

    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


def timed(request: Callable[[], Any]) -> Answer:
    """Run `request` (a `requests` call or a Flask test-client call) and time it."""
    started = time.monotonic()
    response = request()
    seconds = time.monotonic() - started
    if isinstance(response, requests.Response):
        return Answer(response.status_code, dict(response.headers), response.content, seconds)
    return Answer(response.status_code, dict(response.headers), response.get_data(), seconds)


def at_once(*requests_: Callable[[], Any]) -> list[Answer]:
    """Run every request in its own thread, at the same time; their answers, in order."""
    with ThreadPoolExecutor(max_workers=len(requests_)) as pool:
        return list(pool.map(timed, requests_))


def assert_answered(answer: Answer, status: int, within: float) -> None:
    """`status`, answered within `within` seconds."""
    assert answer.status == status, (answer.status, answer.body[:300])
    assert answer.seconds < within, f"answered after {answer.seconds:.1f} s (limit {within} s)"


def assert_unavailable(answer: Answer, within: float, code: str | None = None) -> None:
    """A JSON 503 with `Retry-After`, answered within `within` seconds."""
    assert answer.status == 503, (answer.status, answer.body[:300])
    assert answer.headers.get("Content-Type", "").startswith("application/json"), answer.headers
    body = answer.json()
    assert body["status"] == "error"
    if code is not None:
        assert body["code"] == code, body
    assert answer.headers.get("Retry-After") == RETRY_AFTER, answer.headers
    assert answer.seconds < within, f"answered after {answer.seconds:.1f} s (limit {within} s)"


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (PostgreSQL's backends are children of its postmaster)."""
    found = [pid]
    listed = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    for child in listed.stdout.split():
        found.extend(descendants(int(child)))
    return found


@contextmanager
def frozen(pid: int) -> Iterator[None]:
    """SIGSTOP `pid` and its descendants; SIGCONT them on the way out, whatever happened."""
    stopped: list[int] = []
    try:
        for each in descendants(pid):
            os.kill(each, signal.SIGSTOP)
            stopped.append(each)
        yield
    finally:
        for each in stopped:
            with suppress(ProcessLookupError):
                os.kill(each, signal.SIGCONT)


def until(check: Callable[[], bool], within: float, what: str) -> float:
    """Poll `check` until it holds; the seconds it took (fails after `within`)."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > within:
            raise AssertionError(f"{what}: not within {within} s")
        time.sleep(0.2)
    return time.monotonic() - started
