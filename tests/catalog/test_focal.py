"""`PUT`/`DELETE /image/<hash>/focal` (owner only), `/metadata` showing the point and the
faces, and crops following the stored point, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pyvips
from flask import Flask

from images_server import faces
from images_server.hashing import parse_hash
from tests.catalog.support import ADMIN, ALICE, BOB, assert_error, bearer, services, upload
from tests.images import quadrant_bytes


def _pixel(data: bytes) -> list[float]:
    return list(pyvips.Image.new_from_buffer(data, "")(0, 0))


def test_the_owner_stores_a_point_that_centred_crops_then_follow(keyed: Flask) -> None:
    client = keyed.test_client()
    response = upload(client, quadrant_bytes(200, 100, "png"), ALICE)
    digest = response.get_json()["hash"]
    centred = client.get(f"/image/{digest}/crop/20x20").data
    assert client.get(f"/image/{digest}/metadata").get_json()["focal"] is None

    put = client.put(f"/image/{digest}/focal", json={"x": 0.1, "y": 0.9}, headers=bearer(ALICE))
    assert put.status_code == 200
    assert put.get_json()["focal"] == {"x": 0.1, "y": 0.9}
    assert client.get(f"/image/{digest}/metadata").get_json()["focal"] == {"x": 0.1, "y": 0.9}
    moved = client.get(f"/image/{digest}/crop/20x20").data
    assert _pixel(moved) != _pixel(centred)  # the bottom-left quadrant, not the centre
    assert _pixel(moved) == _pixel(client.get(f"/image/{digest}/crop/sw20x20").data)

    assert client.delete(f"/image/{digest}/focal", headers=bearer(ADMIN)).status_code == 200
    assert client.get(f"/image/{digest}/crop/20x20").data == centred


def test_only_the_owner_or_an_admin_sets_it_and_only_to_a_point(keyed: Flask) -> None:
    client = keyed.test_client()
    digest = upload(client, quadrant_bytes(40, 30, "png"), ALICE).get_json()["hash"]
    url = f"/image/{digest}/focal"
    assert_error(client.put(url, json={"x": 0.5, "y": 0.5}, headers=bearer(BOB)), 403, "not_owner")
    assert client.put(url, json={"x": 0.5, "y": 0.5}).status_code == 401
    for body in ({"x": 1.5, "y": 0}, {"x": "0.5", "y": 0.5}, {"x": 0.5}, [0.5, 0.5]):
        assert_error(client.put(url, json=body, headers=bearer(ALICE)), 400, "bad_request")
    missing = "/image/" + "0" * 64 + "/focal"
    assert_error(
        client.put(missing, json={"x": 0, "y": 0}, headers=bearer(ADMIN)), 404, "file_not_found"
    )


def test_faces_found_by_the_worker_show_in_metadata_and_place_face_crops(
    keyed: Flask, samples: Path
) -> None:
    client = keyed.test_client()
    portrait = pyvips.Image.new_from_file(str(samples / "faces-astronaut-512x512.png"))
    data = portrait.jpegsave_buffer(Q=90)  # a small upload: werkzeug spools big ones to files
    digest = upload(client, data, ALICE).get_json()["hash"]
    assert client.get(f"/image/{digest}/metadata").get_json()["faces"] is None  # not yet
    before = client.get(f"/image/{digest}/crop/face100x100").data  # smart, meanwhile
    assert faces.detect(services(keyed), parse_hash(digest)) == 1
    (face,) = client.get(f"/image/{digest}/metadata").get_json()["faces"]
    assert 0.3 < face["x"] < 0.4
    assert 0.1 < face["y"] < 0.2
    after = client.get(f"/image/{digest}/crop/face100x100")
    assert after.status_code == 200
    assert after.data != before  # a new key: the smart crop cached before is not served
