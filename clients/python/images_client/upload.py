"""`POST /upload` with retries, on urllib alone.

An upload is safe to repeat: the server stores content by its SHA-256, so sending the same
bytes twice stores them once. So a `429` (rate limit), a `503` (a backing service down, or no
render slot) and a connection error or timeout are retried with exponential backoff —
`backoff`, twice that, four times… — never sooner than the answer's `Retry-After` (seconds or an
HTTP date), at most `attempts` times in all. A `Retry-After` longer than `max_delay` is not
waited for: the error is raised at once, with its `retry_after`, for the caller to decide.
Every other error is raised at once as `ImagesError` with the server's `status`, `code` and
`message` (docs/api.md §2).
"""

from __future__ import annotations

import email.utils
import json
import mimetypes
import os
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Union

__all__ = ["RETRY_STATUSES", "ImagesError", "Upload", "upload"]

RETRY_STATUSES = frozenset({429, 503})
Source = Union[bytes, str, "os.PathLike[str]", IO[bytes]]


class ImagesError(Exception):
    """An error answer (`status` > 0: the HTTP status) or no answer at all (`status` 0)."""

    def __init__(
        self, status: int, code: str, message: str, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}" if status else message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True)
class Upload:
    """The `201` answer of `POST /upload`."""

    hash: str
    width: int
    height: int
    format: str
    bytes: int
    url: str
    public: bool


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """`Retry-After` as seconds from `now`: whole seconds, or an HTTP date; None if unusable."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": a UTC date
        return None
    return max(0.0, when.timestamp() - now)


def _read_source(source: Source, filename: str | None) -> tuple[bytes, str]:
    if isinstance(source, bytes):
        return source, filename or "upload"
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        return path.read_bytes(), filename or path.name
    data = source.read()
    name = filename or Path(str(getattr(source, "name", "") or "upload")).name
    return data, name


def _multipart(fields: list[tuple[str, str]], data: bytes, filename: str) -> tuple[bytes, str]:
    boundary = "images-client-" + secrets.token_hex(16)
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    quoted = filename.replace("\\", "\\\\").replace('"', "%22").replace("\r", "").replace("\n", "")
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields
    ]
    parts.append(
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{quoted}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _error(status: int, body: bytes, retry_after: float | None) -> ImagesError:
    try:
        answer = json.loads(body)
        code, message = str(answer["code"]), str(answer["message"])
    except (ValueError, KeyError, TypeError):
        code, message = "http_error", body[:200].decode("utf-8", "replace") or f"HTTP {status}"
    return ImagesError(status, code, message, retry_after)


def upload(
    base_url: str,
    source: Source,
    *,
    api_key: str | None = None,
    filename: str | None = None,
    public: bool | None = None,
    attempts: int = 4,
    backoff: float = 0.5,
    max_delay: float = 30.0,
    timeout: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Upload:
    """Upload `source` (bytes, a file path or a binary file) to the server at `base_url`.

    `api_key` goes in `Authorization: Bearer`; `public` sets the image's visibility (unset:
    the server's default). Retries as the module says; raises `ImagesError`.
    """
    if not base_url.startswith(("http://", "https://")):
        raise ValueError(f"base_url must be an http or https URL: {base_url!r}")
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    data, name = _read_source(source, filename)
    fields = [] if public is None else [("public", "true" if public else "false")]
    body, content_type = _multipart(fields, data, name)
    headers = {"Content-Type": content_type, "Accept": "application/json"}
    if api_key is not None:
        headers["Authorization"] = f"Bearer {api_key}"
    url = base_url.rstrip("/") + "/upload"
    for attempt in range(1, attempts + 1):
        delay = backoff * 2 ** (attempt - 1)
        # base_url's scheme is checked above: http or https only (S310)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                answer = json.loads(response.read())
            return Upload(
                hash=answer["hash"],
                width=answer["width"],
                height=answer["height"],
                format=answer["format"],
                bytes=answer["bytes"],
                url=answer["url"],
                public=answer["public"],
            )
        except urllib.error.HTTPError as exc:
            with exc:
                wait = retry_after_seconds(exc.headers.get("Retry-After"), time.time())
                error = _error(exc.code, exc.read(), wait)
            if exc.code not in RETRY_STATUSES or attempt == attempts:
                raise error from None
            if wait is not None and wait > max_delay:
                raise error from None
            delay = max(min(delay, max_delay), wait or 0.0)
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            if attempt == attempts:
                reason = getattr(exc, "reason", exc)
                raise ImagesError(0, "connection_error", f"no answer from {url}: {reason}") from exc
            delay = min(delay, max_delay)
        sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
