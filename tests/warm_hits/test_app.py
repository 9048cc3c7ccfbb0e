"""A result-cache hit leaves the app as its file, never read into Python (http/responses.py).

The app is called as gunicorn calls it, with gunicorn's own `wsgi.file_wrapper`: a hit's
iterable must be an instance of it around the cache entry's descriptor, which is exactly when
gunicorn sends it with `sendfile(2)`. With `IMAGES_ACCEL_REDIRECT`, a request NGINX marks gets
headers and `X-Accel-Redirect` instead. Every answer without a body closes the file at once.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from gunicorn.http.wsgi import FileWrapper  # type: ignore[import-untyped]
from werkzeug.test import EnvironBuilder

from images_server.app import create_app
from images_server.caches.base import CachedFile
from images_server.caches.memory import MemoryCache
from images_server.engines import build_engine
from images_server.hashing import original_ref
from images_server.pipeline.parse import parse_pipeline
from images_server.pipeline.plan import make_plan
from images_server.render import render
from images_server.security.fetch import FetchPolicy
from images_server.services import Services
from images_server.settings import Settings
from images_server.storages.memory import MemoryStorage
from tests.images import quadrant_bytes

KEY = "alice-key-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {KEY}"}


class Answer:
    def __init__(self, app: Flask, path: str, method: str = "GET", **headers: str) -> None:
        builder = EnvironBuilder(path=path, method=method, headers=list(headers.items()))
        environ = builder.get_environ()
        environ["wsgi.file_wrapper"] = FileWrapper  # as gunicorn's workers set it
        got: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: object = None
        ) -> Callable[[bytes], object]:
            got["status"], got["headers"] = int(status.split()[0]), dict(headers)
            return lambda data: None

        self.iterable: Iterable[bytes] = app(environ, start_response)
        self.status: int = got["status"]
        self.headers: dict[str, str] = got["headers"]

    def body(self) -> bytes:
        try:
            return b"".join(self.iterable)
        finally:
            close: Callable[[], None] | None = getattr(self.iterable, "close", None)
            if close is not None:
                close()


def open_paths() -> list[str]:
    fds = Path("/proc/self/fd")
    paths = []
    for fd in fds.iterdir():
        try:
            paths.append(os.readlink(fd))
        except OSError:  # the listing's own descriptor, gone
            continue
    return paths


def entries(data_dir: Path) -> list[Path]:
    return sorted(
        p for p in (data_dir / "cache").rglob("*") if p.is_file() and "locks" not in str(p)
    )


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    settings = Settings(
        data_dir=tmp_path / "data",
        engine="vips",
        api_keys=(f"alice:{KEY}",),
        accel_redirect="/_cache/",
        eager_presets=(),
    )
    return create_app(settings)


def upload(app: Flask, public: bool = True) -> str:
    data = quadrant_bytes(64, 48, "png")
    response = app.test_client().post(
        "/upload",
        data={"file": (io.BytesIO(data), "q.png"), "public": str(public).lower()},
        headers=AUTH,
    )
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["hash"])


def test_a_hit_is_its_file_through_the_servers_file_wrapper(app: Flask, tmp_path: Path) -> None:
    url = f"/image/{upload(app)}/resize/40x/format/webp"
    miss = Answer(app, url)
    first = miss.body()
    assert not isinstance(miss.iterable, FileWrapper)  # rendered now: bytes
    [entry] = entries(tmp_path / "data")
    assert entry.suffix == ".webp"
    assert entry.read_bytes() == first

    hit = Answer(app, url)
    assert hit.status == 200
    assert isinstance(hit.iterable, FileWrapper)  # gunicorn: resp.write_file -> sendfile(2)
    assert os.path.samestat(os.fstat(hit.iterable.filelike.fileno()), entry.stat())
    assert hit.body() == first
    assert str(entry) not in open_paths()  # closed once sent
    for name in ("Content-Type", "Content-Length", "ETag", "Cache-Control"):
        assert hit.headers[name] == miss.headers[name], name
    assert hit.headers["Content-Length"] == str(len(first))
    assert "X-Accel-Redirect" not in hit.headers  # NGINX did not ask for it


@pytest.mark.parametrize(
    ("method", "condition", "status"),
    [
        ("GET", "If-None-Match", 304),
        ("HEAD", "If-None-Match", 304),
        ("HEAD", "", 200),
        ("GET", "If-Match", 412),  # werkzeug's 412 carries the body, as it did from bytes
        ("HEAD", "If-Match", 412),
    ],
)
def test_a_hit_answers_conditions_and_head_as_a_render_does(
    tmp_path: Path, method: str, condition: str, status: int
) -> None:
    rendering = create_app(
        Settings(data_dir=tmp_path / "none", engine="vips", eager_presets=(), cache="none")
    )
    caching = create_app(Settings(data_dir=tmp_path / "data", engine="vips", eager_presets=()))
    url = f"/image/{upload(rendering)}/resize/40x"
    upload(caching)
    Answer(caching, url).body()  # rendered and stored: from here on, a hit
    etag = Answer(rendering, url).headers["ETag"]
    [entry] = entries(tmp_path / "data")
    headers = {condition: etag if condition == "If-None-Match" else '"other"'} if condition else {}
    rendered, hit = (
        Answer(rendering, url, method, **headers),
        Answer(caching, url, method, **headers),
    )
    assert hit.status == rendered.status == status
    assert hit.headers.keys() - {"X-Request-ID"} == rendered.headers.keys() - {"X-Request-ID"}
    for name in hit.headers.keys() - {"X-Request-ID", "Date"}:
        assert hit.headers[name] == rendered.headers[name], name
    if method == "HEAD" or status == 304:
        assert not isinstance(hit.iterable, FileWrapper)
        assert str(entry) not in open_paths()  # closed before the server had it
    assert hit.body() == rendered.body()
    assert str(entry) not in open_paths()


@pytest.mark.parametrize(
    ("mark", "public", "redirected"),
    [
        ("on", True, True),
        ("on", False, True),
        ("private", False, True),
        ("private", True, False),  # NGINX's proxy_cache must see the bytes to store them
        ("", True, False),  # a client that reached the app without NGINX
        ("yes", False, False),
    ],
)
def test_x_accel_redirect_only_where_nginx_marks_the_request(
    app: Flask, tmp_path: Path, mark: str, public: bool, redirected: bool
) -> None:
    url = f"/image/{upload(app, public)}/resize/40x/format/webp?format=png"
    miss = Answer(app, url, **AUTH)
    body = miss.body()
    [entry] = entries(tmp_path / "data")
    headers = {"X-Images-Accel": mark, **AUTH} if mark else AUTH
    hit = Answer(app, url, **headers)
    assert hit.status == 200
    for name in ("Content-Type", "ETag"):
        assert hit.headers[name] == miss.headers[name], name
    if redirected:
        relative = entry.relative_to(tmp_path / "data" / "cache").as_posix()
        assert hit.headers["X-Accel-Redirect"] == f"/_cache/{relative}"
        # NGINX would copy a Cache-Control into a 404 of its own: nginx.conf restores it
        assert "Cache-Control" not in hit.headers
        assert hit.headers["X-Images-Cache-Control"] == miss.headers["Cache-Control"]
        assert hit.headers["Content-Length"] == "0"  # NGINX keeps its connection to the app
        assert str(entry) not in open_paths()
        assert hit.body() == b""
    else:
        assert "X-Accel-Redirect" not in hit.headers
        assert hit.headers["Cache-Control"] == miss.headers["Cache-Control"]
        assert isinstance(hit.iterable, FileWrapper)
        assert hit.body() == body
    etag = miss.headers["ETag"]
    revalidated = Answer(app, url, **{"If-None-Match": etag}, **headers)
    assert revalidated.status == 304
    assert "X-Accel-Redirect" not in revalidated.headers  # NGINX would send the file with it
    assert revalidated.body() == b""


def test_off_by_default(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path / "data", engine="vips", eager_presets=()))
    url = f"/image/{upload(app)}/resize/40x"
    body = Answer(app, url).body()
    hit = Answer(app, url, **{"X-Images-Accel": "on"})
    assert "X-Accel-Redirect" not in hit.headers
    assert isinstance(hit.iterable, FileWrapper)
    assert hit.body() == body


def _services(cache: Any) -> Services:
    return Services(
        settings=Settings(engine="vips"),
        storage=MemoryStorage(),
        cache=cache,
        engine=build_engine("vips"),
        fetch_policy=FetchPolicy(),
    )


def test_the_spine_gives_a_file_only_for_a_cache_of_files(tmp_path: Path) -> None:
    from images_server.caches.filesystem import FilesystemCache

    data = quadrant_bytes(64, 48, "png")
    plan = make_plan(parse_pipeline("resize/30x", max_ops=10))
    for cache, is_file in ((FilesystemCache(tmp_path, 10**7), True), (MemoryCache(10**7), False)):
        services = _services(cache)
        ref = original_ref(data)
        services.storage.put(ref, data)
        rendered = render(services, ref, plan)
        assert isinstance(rendered.content, bytes)  # a miss: rendered now
        hit = render(services, ref, plan)
        assert isinstance(hit.content, CachedFile) is is_file
        assert hit.body == rendered.body  # callers that want bytes (packs) still get them
        assert (hit.media_type, hit.etag) == (rendered.media_type, rendered.etag)
