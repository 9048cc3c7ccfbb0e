"""Locked-down unsigned URLs: `IMAGES_ONLY_PRESETS`, `IMAGES_ALLOWED_OPS`, `IMAGES_ALLOWED_WIDTHS`.

Unsigned transform URLs keep within the lists (presets are always allowed: the operator wrote
them), anything else is `403 unsigned_not_allowed` saying what is allowed, and a signed URL
may still ask for anything. The original itself is no transform and stays open.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from images_server.settings import Settings
from tests.http.test_access import SECRET, make_app, signed, upload


def _client(tmp_path: Path, **settings: object) -> tuple[FlaskClient, str]:
    client = make_app(tmp_path / "data", secret_key=(SECRET,), **settings).test_client()
    return client, str(upload(client).get_json()["hash"])


def _refused(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 403, url
    body = response.get_json()
    assert body["code"] == "unsigned_not_allowed"
    return str(body["message"])


def test_only_presets(tmp_path: Path) -> None:
    client, digest = _client(tmp_path, only_presets=True)
    for allowed in ("", "/preset/thumb", "?size=medium"):
        assert client.get(f"/image/{digest}{allowed}").status_code == 200, allowed
    message = _refused(client, f"/image/{digest}/resize/20x")
    assert message == (
        "'resize/20x': unsigned URLs may use only presets (full, medium, thumb); "
        "sign the URL for anything else"
    )
    _refused(client, f"/image/{digest}/preset/thumb/blur/2")
    _refused(client, f"/image/{digest}?format=webp")
    assert client.get(signed(f"/image/{digest}/resize/20x/blur/2")).status_code == 200


def test_only_presets_with_a_few_ops_more(tmp_path: Path) -> None:
    client, digest = _client(tmp_path, only_presets=True, allowed_ops="format")
    assert client.get(f"/image/{digest}/preset/thumb/format/webp").status_code == 200
    assert client.get(f"/image/{digest}?size=thumb&format=avif").status_code == 200
    message = _refused(client, f"/image/{digest}/crop/10x10")
    assert "presets (full, medium, thumb) and the ops format" in message


def test_allowed_ops_without_presets_only(tmp_path: Path) -> None:
    client, digest = _client(tmp_path, allowed_ops="resize,format")
    assert client.get(f"/image/{digest}/resize/20x/format/png").status_code == 200
    assert client.get(f"/image/{digest}/preset/thumb").status_code == 200
    assert "'rotate/90'" in _refused(client, f"/image/{digest}/resize/20x/rotate/90")


def test_allowed_widths(tmp_path: Path) -> None:
    client, digest = _client(tmp_path, allowed_widths="16,32")
    for ok in ("/resize/16x", "/resize/32x32", "/dpr/2/resize/16x", "/preset/thumb"):
        assert client.get(f"/image/{digest}{ok}").status_code == 200, ok
    message = _refused(client, f"/image/{digest}/resize/20x")
    assert message == (
        "'resize/20x': unsigned URLs may resize only to the widths 16, 32; "
        "sign the URL for any other size"
    )
    _refused(client, f"/image/{digest}/dpr/3/resize/16x")  # 48 wide once the dpr is applied
    _refused(client, f"/image/{digest}/resize/x16")  # no width: not one of the list
    assert client.get(signed(f"/image/{digest}/resize/20x")).status_code == 200


def test_a_bad_pipeline_is_still_a_400(tmp_path: Path) -> None:
    client, digest = _client(tmp_path, allowed_widths="16")
    response = client.get(f"/image/{digest}/resize/banana")
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_pipeline"


def test_external_keeps_within_the_lists_too(tmp_path: Path) -> None:
    client, _ = _client(tmp_path, only_presets=True)
    message = _refused(client, "/external?url=https%3A%2F%2Fexample.com%2Fa.png&operations=blur/3")
    assert "'blur/3'" in message


@pytest.mark.parametrize(
    ("setting", "message"),
    [({"allowed_ops": "resize,smudge"}, "'smudge' is not an op"),
     ({"allowed_widths": "320,wide"}, "'wide' is not a width")],
)  # fmt: skip
def test_bad_lists_are_refused_at_start(setting: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings(**setting)  # type: ignore[arg-type]
