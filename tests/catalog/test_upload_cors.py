"""CORS on `POST /upload` for pages on `IMAGES_CORS_ORIGINS` using an upload token, and a
token spent on a pack by the web UI (docs/api.md §5)."""

from __future__ import annotations

import io

from flask import Flask

from images_server.db.models import Image, Pack
from tests.catalog.support import ALICE, KEYS, MakeApp, assert_error, bearer, count
from tests.catalog.test_upload_tokens import picture, send, token_of

PAGE = "https://app.example"
PREFLIGHT = {
    "Origin": PAGE,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization",
}


def cors_app(make_app: MakeApp, *origins: str) -> Flask:
    return make_app(api_keys=KEYS, cors_origins=origins)


def test_a_listed_origin_gets_its_preflight_and_reads_the_answer(make_app: MakeApp) -> None:
    client = cors_app(make_app, PAGE, "https://other.example").test_client()
    preflight = client.options("/upload", headers=PREFLIGHT)
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == PAGE
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    assert "Origin" in preflight.headers["Vary"]
    token = token_of(client)
    form = {"file": (io.BytesIO(picture()), "p.png")}
    created = client.post("/upload", data=form, headers={**bearer(token), "Origin": PAGE})
    assert created.status_code == 201
    assert created.headers["Access-Control-Allow-Origin"] == PAGE
    again = client.post("/upload", data={}, headers={**bearer(token), "Origin": PAGE})
    assert_error(again, 401, "upload_token_used")
    assert again.headers["Access-Control-Allow-Origin"] == PAGE  # the page can read why


def test_other_origins_and_other_paths_get_no_cors(make_app: MakeApp) -> None:
    client = cors_app(make_app, PAGE).test_client()
    stranger = client.options("/upload", headers={**PREFLIGHT, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in stranger.headers
    minting = client.options("/upload-tokens", headers=PREFLIGHT)
    assert "Access-Control-Allow-Origin" not in minting.headers


def test_any_origin_with_a_star(make_app: MakeApp) -> None:
    client = cors_app(make_app, "*").test_client()
    preflight = client.options("/upload", headers={**PREFLIGHT, "Origin": "https://x.example"})
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"


def test_no_cors_unless_configured(make_app: MakeApp) -> None:
    client = make_app(api_keys=KEYS).test_client()
    assert "Access-Control-Allow-Origin" not in client.options("/upload", headers=PREFLIGHT).headers


def test_the_web_ui_analyses_then_spends_the_token_on_its_pack(make_app: MakeApp) -> None:
    app = make_app(api_keys=KEYS)
    client = app.test_client()
    client.get("/")  # the page's session cookie
    token = token_of(client)
    data = picture()
    analysed = client.post(
        "/packs/analyze", data={"file": (io.BytesIO(data), "p.png")}, headers=bearer(token)
    )
    assert analysed.status_code == 200, analysed.get_data(as_text=True)
    fields = {"file": (io.BytesIO(data), "p.png"), "widths": "20", "formats": "webp"}
    created = client.post("/packs", data=fields, headers=bearer(token))
    assert created.status_code == 202, created.get_data(as_text=True)
    pack = client.get(f"/packs/{created.get_json()['id']}")  # the cookie, no key: the session's
    assert pack.status_code == 200
    assert count(app, Pack, owner="alice") == 1
    assert_error(send(client, token, data), 401, "upload_token_used")
    url = f"/packs/{created.get_json()['id']}"
    other = app.test_client()  # another browser: not its pack, but alice's key may read it
    other.get("/")
    assert other.get(url).status_code == 404
    assert other.get(url, headers=bearer(ALICE)).status_code == 200
    assert count(app, Image) == 0
