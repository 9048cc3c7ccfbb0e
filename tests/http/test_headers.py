"""SPEC §4: `X-Content-Type-Options: nosniff` on every response, whatever its kind."""

from __future__ import annotations

import io

from flask.testing import FlaskClient

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
