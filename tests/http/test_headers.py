"""docs/api.md §4: `X-Content-Type-Options: nosniff` on every response, whatever its kind."""

from __future__ import annotations

import io
from pathlib import Path

from flask.testing import FlaskClient

from images_server.app import create_app
from images_server.settings import Settings
from tests.images import quadrant_bytes


def test_every_kind_of_response_says_nosniff(client: FlaskClient) -> None:
    data = quadrant_bytes(40, 30, "png")
    upload = client.post("/upload", data={"file": (io.BytesIO(data), "q.png")})
    digest = upload.get_json()["hash"]
    variant = client.get(f"/image/{digest}/resize/20x")
    responses = {
        "201 upload": upload,
        "200 original": client.get(f"/image/{digest}"),
        "200 variant": variant,
        "304 variant": client.get(
            f"/image/{digest}/resize/20x", headers={"If-None-Match": variant.headers["ETag"]}
        ),
        "200 metadata": client.get(f"/image/{digest}/metadata"),
        "200 healthz": client.get("/healthz"),
        "400 pipeline": client.get(f"/image/{digest}/resize/nope"),
        "404 route": client.get("/nowhere"),
        "405 method": client.put(f"/image/{digest}"),
        "415 upload": client.post("/upload", data=b"text", content_type="image/png"),
        "200 delete": client.delete(f"/image/{digest}"),
    }
    for name, response in responses.items():
        assert response.status_code == int(name.split()[0]), name
        assert response.headers.get("X-Content-Type-Options") == "nosniff", name


def test_behind_a_trusted_tls_proxy_returned_urls_say_https(tmp_path: Path) -> None:
    trusting = create_app(Settings(data_dir=tmp_path / "a", trusted_proxies=1)).test_client()
    body = quadrant_bytes(12, 10, "png")
    proxied = {"X-Forwarded-Proto": "https"}
    url = trusting.post("/upload", data=body, content_type="image/png", headers=proxied)
    assert url.get_json()["url"].startswith("https://localhost/image/")
    direct = create_app(Settings(data_dir=tmp_path / "b")).test_client()
    url = direct.post("/upload", data=body, content_type="image/png", headers=proxied)
    assert url.get_json()["url"].startswith("http://localhost/image/")  # not trusted: ignored
