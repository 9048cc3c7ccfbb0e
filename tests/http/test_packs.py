"""`/packs` over HTTP, with the job run in-process by the same function the worker runs:
creation, state, download, previews, who may see a pack, bad input, and retention."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from images_server.app import create_app
from images_server.db.models import Pack, utcnow
from images_server.hashing import pack_ref
from images_server.jobs.packs import delete_expired, run_pack
from images_server.jobs.tasks import Jobs
from images_server.packs import store
from images_server.services import Services
from images_server.settings import Settings
from tests.images import quadrant_bytes

ALICE = "alice-key-0123456789"
BOB = "bob-key-0123456789ab"


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return create_app(Settings(data_dir=tmp_path / "data", eager_presets=()))


def _services(app: Flask) -> Services:
    return cast(Services, app.extensions["images"])


@pytest.fixture
def photo(samples: Path) -> bytes:
    return (samples / "photo-1mp-1200x900.jpg").read_bytes()


def _create(client: FlaskClient, data: bytes, **fields: str) -> str:
    form: dict[str, object] = {"file": (io.BytesIO(data), "Holiday Photo.jpg"), **fields}
    response = client.post("/packs", data=form)
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["status_url"].endswith(f"/packs/{body['id']}")
    return str(body["id"])


def test_a_pack_from_upload_to_zip(app: Flask, photo: bytes) -> None:
    client = app.test_client()
    pack_id = _create(client, photo, widths="320,640", formats="avif,webp,jpeg", alt="A beach")
    assert len(pack_id) == 32
    queued = client.get(f"/packs/{pack_id}").get_json()
    assert (queued["status"], queued["progress"], queued["download_url"]) == ("queued", 0, None)
    assert client.get(f"/packs/{pack_id}/download").status_code == 409

    assert run_pack(_services(app), pack_id)
    done = client.get(f"/packs/{pack_id}")
    assert done.headers["Cache-Control"] == "private, no-store"
    state = done.get_json()
    assert (state["status"], state["progress"]) == ("done", 1)
    assert state["analysis"]["kind"] == "photo"
    assert state["recommended"]["widths"] == [160, 320, 640, 960, 1200]
    assert state["settings"]["widths"] == [320, 640]
    manifest = state["manifest"]
    names = [entry["file"] for entry in manifest["files"]]
    assert names == [f"holiday-photo-{w}.{e}" for w in (320, 640) for e in ("avif", "webp", "jpg")]

    download = client.get(f"/packs/{pack_id}/download")
    assert download.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    assert set(names) <= set(archive.namelist())
    assert json.loads(archive.read("manifest.json")) == manifest
    for entry in manifest["files"]:
        assert len(archive.read(entry["file"])) == entry["bytes"]
    picture = archive.read("snippets/picture.html").decode()
    assert 'alt="A beach"' in picture
    assert 'loading="lazy"' in picture

    preview = client.get(f"/packs/{pack_id}/files/holiday-photo-320.webp")
    assert (preview.status_code, preview.mimetype) == (200, "image/webp")
    assert client.get(f"/packs/{pack_id}/files/manifest.json").status_code == 404


def test_a_pack_made_from_the_web_page_is_visible_only_to_that_browser(
    app: Flask, photo: bytes
) -> None:
    owner = app.test_client()
    page = owner.get("/")
    assert "HttpOnly" in page.headers["Set-Cookie"]
    assert "images_session=" in page.headers["Set-Cookie"]
    assert "Set-Cookie" not in owner.get("/").headers  # one session per browser
    pack_id = _create(owner, photo, widths="320", formats="webp")
    stranger = app.test_client()  # another browser: no session cookie
    for path in ("", "/download", "/files/holiday-photo-320.webp"):
        response = stranger.get(f"/packs/{pack_id}{path}")
        assert response.status_code == 404
        assert response.get_json()["code"] == "pack_not_found"
    assert owner.get(f"/packs/{pack_id}").status_code == 200
    assert stranger.get(f"/packs/{'0' * 32}").status_code == 404
    assert stranger.get("/packs/not-an-id").status_code == 404


def test_without_keys_or_a_session_the_unguessable_id_is_the_capability(
    app: Flask, photo: bytes
) -> None:
    script = app.test_client()  # an API client: never opened the page, sends no cookie
    created = script.post("/packs", data={"file": (io.BytesIO(photo), "p.jpg"), "widths": "320"})
    assert "Set-Cookie" not in created.headers
    pack_id = created.get_json()["id"]
    assert len(pack_id) == 32
    other = app.test_client()
    assert other.get(f"/packs/{pack_id}").status_code == 200  # whoever holds the id
    neighbour = pack_id[:-1] + ("1" if pack_id.endswith("0") else "0")
    assert other.get(f"/packs/{neighbour}").status_code == 404


def test_with_api_keys_a_pack_belongs_to_the_key(tmp_path: Path, photo: bytes) -> None:
    app = create_app(Settings(data_dir=tmp_path, api_keys=(f"alice:{ALICE}", f"bob:{BOB}")))
    client = app.test_client()
    form = {"file": (io.BytesIO(photo), "p.jpg"), "widths": "320", "formats": "webp"}
    assert client.post("/packs", data=form).status_code == 401
    form = {"file": (io.BytesIO(photo), "p.jpg"), "widths": "320", "formats": "webp"}
    created = client.post("/packs", data=form, headers={"Authorization": f"Bearer {ALICE}"})
    pack_id = created.get_json()["id"]
    assert "images_session" not in created.headers.get("Set-Cookie", "")
    alice = {"Authorization": f"Bearer {ALICE}"}
    bob = {"Authorization": f"Bearer {BOB}"}
    assert client.get(f"/packs/{pack_id}", headers=alice).status_code == 200
    assert client.get(f"/packs/{pack_id}", headers=bob).status_code == 404
    assert client.get(f"/packs/{pack_id}").status_code == 404


def test_a_pack_of_an_uploaded_image_needs_read_access(tmp_path: Path, photo: bytes) -> None:
    app = create_app(Settings(data_dir=tmp_path, api_keys=(f"alice:{ALICE}", f"bob:{BOB}")))
    client = app.test_client()
    alice = {"Authorization": f"Bearer {ALICE}"}
    uploaded = client.post(
        "/upload?public=false", data=photo, content_type="image/jpeg", headers=alice
    ).get_json()
    body = {"hash": uploaded["hash"], "widths": [320], "formats": ["webp"]}
    refused = client.post("/packs", json=body, headers={"Authorization": f"Bearer {BOB}"})
    assert refused.get_json()["code"] == "private_image"
    created = client.post("/packs", json=body, headers=alice)
    assert created.status_code == 202
    pack_id = created.get_json()["id"]
    assert run_pack(_services(app), pack_id)
    state = client.get(f"/packs/{pack_id}", headers=alice).get_json()
    assert state["status"] == "done"
    assert state["manifest"]["source"]["sha256"] == uploaded["hash"]
    missing = client.post("/packs", json={"hash": "f" * 64}, headers=alice)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"formats": "bmp"}, "formats"), ({"widths": "x"}, "widths"), ({"quality": "{"}, "quality")],
)
def test_bad_options_are_400_naming_the_field_and_store_nothing(
    app: Flask, photo: bytes, fields: dict[str, str], field: str
) -> None:
    response = app.test_client().post(
        "/packs", data={"file": (io.BytesIO(photo), "p.jpg"), **fields}
    )
    assert response.status_code == 400
    assert response.get_json()["message"].startswith(f"'{field}'")
    services = _services(app)
    assert services.database is not None
    with Session(services.database) as session:
        assert session.execute(select(Pack)).first() is None
    assert not (services.settings.data_dir / "originals" / "packs").exists()


@pytest.mark.parametrize(
    ("data", "status"),
    [(b"hello, not an image", 415), (quadrant_bytes(64, 48, "png")[:-30], 422)],
)
def test_bad_sources_are_refused_at_once(app: Flask, data: bytes, status: int) -> None:
    response = app.test_client().post("/packs", data={"file": (io.BytesIO(data), "x.png")})
    assert response.status_code == status


def test_analyze_answers_at_once_and_stores_nothing(app: Flask, photo: bytes) -> None:
    response = app.test_client().post(
        "/packs/analyze", data={"file": (io.BytesIO(photo), "Beach.jpg")}
    )
    body = response.get_json()
    assert body["analysis"]["width"] == 1200
    assert body["recommended"]["name"] == "beach"
    assert body["recommended"]["formats"] == ["avif", "webp", "jpeg"]
    assert not (_services(app).settings.data_dir / "originals").exists()


def test_progress_only_rises_and_a_finished_pack_is_not_run_again(
    app: Flask, photo: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = _services(app)
    database = services.database
    assert database is not None
    pack_id = _create(app.test_client(), photo, widths="320,640", formats="webp,jpeg")
    seen: list[float] = []
    real_report = store.report

    def recording(engine: Engine, pid: str, progress: float, **fields: Any) -> None:
        real_report(engine, pid, progress, **fields)
        row = store.get(database, pid)
        assert row is not None
        seen.append(row.progress)

    monkeypatch.setattr(store, "report", recording)
    assert run_pack(services, pack_id)
    assert seen == sorted(seen)
    assert len(seen) == 5  # analysed, then one report per file
    assert not run_pack(services, pack_id)  # done: nobody may claim it again


def test_expired_packs_answer_410_and_their_files_are_deleted(app: Flask, photo: bytes) -> None:
    services = _services(app)
    assert services.database is not None
    client = app.test_client()
    pack_id = _create(client, photo, widths="320", formats="webp")
    assert run_pack(services, pack_id)
    assert services.storage.exists(pack_ref(pack_id, "zip"))
    assert services.storage.exists(pack_ref(pack_id, "source"))
    with Session(services.database) as session:
        past = utcnow() - timedelta(seconds=1)
        session.execute(update(Pack).where(Pack.id == pack_id).values(expires_at=past))
        session.commit()
    assert client.get(f"/packs/{pack_id}").status_code == 410  # even before the cleanup ran
    assert delete_expired(services) == 1
    assert not services.storage.exists(pack_ref(pack_id, "zip"))
    assert not services.storage.exists(pack_ref(pack_id, "source"))
    gone = client.get(f"/packs/{pack_id}/download")
    assert (gone.status_code, gone.get_json()["code"]) == (410, "pack_expired")
    assert delete_expired(services) == 0


def test_no_file_of_a_pack_carries_the_cameras_metadata(app: Flask, samples: Path) -> None:
    """docs/api.md §5 for packs: the iPhone photo has GPS and camera strings; no output keeps
    them."""
    photo = (samples / "camera-iphone-8mp-3264x2448.jpg").read_bytes()
    assert b"Exif\x00\x00" in photo
    client = app.test_client()
    created = client.post(
        "/packs?widths=320,640&formats=avif,webp,jpeg", data=photo, content_type="image/jpeg"
    )
    pack_id = created.get_json()["id"]
    assert run_pack(_services(app), pack_id)
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/packs/{pack_id}/download").data))
    for name in archive.namelist():
        data = archive.read(name)
        assert b"Exif\x00\x00" not in data, name
        assert b"iPhone" not in data, name
        assert b"Apple" not in data, name
    manifest = archive.read("manifest.json").decode().lower()
    for secret in ("gps", "latitude", "serial", "exif"):
        assert secret not in manifest


def test_expired_packs_are_removed_by_a_periodic_job(app: Flask) -> None:
    """docs/api.md §7: the cleanup is a periodic job of the queue (every 10 min), beside the check
    that queues stalled packs again (every minute)."""
    jobs = _services(app).jobs
    assert isinstance(jobs, Jobs)

    def due(minute: int) -> set[str]:
        return {task.name for task in jobs.huey.read_periodic(datetime(2026, 1, 1, 3, minute))}

    assert due(0) == {"delete_expired_packs", "requeue_stalled_packs"}
    assert due(20) == {"delete_expired_packs", "requeue_stalled_packs"}
    assert due(7) == {"requeue_stalled_packs"}


def test_pack_urls_are_on_the_cdn(tmp_path: Path, photo: bytes) -> None:
    """docs/api.md §4: every URL the API returns uses the configured CDN base URL."""
    cdn = "https://cdn.example.com"
    app = create_app(Settings(data_dir=tmp_path, cdn_base_url=cdn, eager_presets=()))
    client = app.test_client()
    created = client.post("/packs", data={"file": (io.BytesIO(photo), "p.jpg"), "widths": "320"})
    body = created.get_json()
    assert body["status_url"] == f"{cdn}/packs/{body['id']}"
    assert created.headers["Location"] == body["status_url"]
    assert run_pack(_services(app), body["id"])
    state = client.get(f"/packs/{body['id']}").get_json()
    assert state["download_url"] == f"{cdn}/packs/{body['id']}/download"


def test_the_state_counts_files_done_of_files_total(
    app: Flask, photo: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = _services(app)
    client = app.test_client()
    pack_id = _create(client, photo, widths="320,640", formats="webp,jpeg")
    queued = client.get(f"/packs/{pack_id}").get_json()
    assert (queued["files_done"], queued["files_total"]) == (0, None)  # not analysed yet
    seen: list[tuple[int, int]] = []
    real_report = store.report

    def recording(engine: Engine, pid: str, progress: float, **fields: Any) -> None:
        real_report(engine, pid, progress, **fields)
        state = client.get(f"/packs/{pid}").get_json()
        seen.append((state["files_done"], state["files_total"]))

    monkeypatch.setattr(store, "report", recording)
    assert run_pack(services, pack_id)
    assert seen == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
    done = client.get(f"/packs/{pack_id}").get_json()
    assert (done["status"], done["files_done"], done["files_total"]) == ("done", 4, 4)


def test_a_queued_pack_cancelled_is_never_built(app: Flask, photo: bytes) -> None:
    services = _services(app)
    owner = app.test_client()
    owner.get("/")  # the page's session: the pack is this browser's
    pack_id = _create(owner, photo, widths="320", formats="webp")
    stranger = app.test_client()
    refused = stranger.post(f"/packs/{pack_id}/cancel")
    assert (refused.status_code, refused.get_json()["code"]) == (404, "pack_not_found")

    cancelled = owner.post(f"/packs/{pack_id}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.headers["Cache-Control"] == "private, no-store"
    assert cancelled.get_json()["status"] == "cancelled"
    assert owner.post(f"/packs/{pack_id}/cancel").get_json()["status"] == "cancelled"  # again
    assert not run_pack(services, pack_id)  # the queued job finds nothing to claim
    assert services.database is not None
    row = store.get(services.database, pack_id)
    assert row is not None
    assert (row.status, row.attempts, row.analysis) == ("cancelled", 0, None)
    assert not services.storage.exists(pack_ref(pack_id, "zip"))
    assert owner.get(f"/packs/{pack_id}/download").status_code == 409
    assert pack_id not in store.stalled(services.database, stall_seconds=-1)  # never requeued


def test_a_processing_pack_cancelled_stops_at_its_next_file(
    app: Flask, photo: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = _services(app)
    client = app.test_client()
    pack_id = _create(client, photo, widths="160,320,640", formats="webp,jpeg")
    reports: list[int] = []
    real_report = store.report

    def cancelling(engine: Engine, pid: str, progress: float, **fields: Any) -> None:
        reports.append(int(str(fields.get("files_done", 0))))
        real_report(engine, pid, progress, **fields)
        if fields.get("files_done") == 2:  # the user cancels while the third file renders
            assert client.post(f"/packs/{pid}/cancel").get_json()["status"] == "cancelled"

    monkeypatch.setattr(store, "report", cancelling)
    assert run_pack(services, pack_id)
    assert reports == [0, 1, 2, 3]  # stopped at the report after the cancel: 3 of 6 rendered
    state = client.get(f"/packs/{pack_id}").get_json()
    assert (state["status"], state["files_done"], state["files_total"]) == ("cancelled", 2, 6)
    assert (state["manifest"], state["download_url"], state["error"]) == (None, None, None)
    assert not services.storage.exists(pack_ref(pack_id, "zip"))


def test_a_pack_cancelled_after_its_last_file_is_not_published(
    app: Flask, photo: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = _services(app)
    client = app.test_client()
    pack_id = _create(client, photo, widths="320", formats="webp")
    real_put = services.storage.put

    def put_then_cancel(ref: object, data: bytes) -> None:
        real_put(ref, data)  # type: ignore[arg-type]
        assert client.post(f"/packs/{pack_id}/cancel").status_code == 200

    monkeypatch.setattr(services.storage, "put", put_then_cancel)
    assert run_pack(services, pack_id)
    assert client.get(f"/packs/{pack_id}").get_json()["status"] == "cancelled"
    assert not services.storage.exists(pack_ref(pack_id, "zip"))


def test_a_done_pack_cannot_be_cancelled(app: Flask, photo: bytes) -> None:
    client = app.test_client()
    pack_id = _create(client, photo, widths="320", formats="webp")
    assert run_pack(_services(app), pack_id)
    refused = client.post(f"/packs/{pack_id}/cancel")
    assert (refused.status_code, refused.get_json()["code"]) == (409, "pack_finished")
    assert refused.get_json()["message"] == "the pack is done: there is nothing to cancel"
    assert client.get(f"/packs/{pack_id}/download").status_code == 200


def test_decorative_means_an_empty_alt_and_no_alt_a_placeholder(app: Flask, photo: bytes) -> None:
    client = app.test_client()
    decorative = _create(client, photo, widths="320", formats="webp", decorative="true")
    unnamed = _create(client, photo, widths="320", formats="webp", alt="")
    for pack_id in (decorative, unnamed):
        assert run_pack(_services(app), pack_id)
    snippets = client.get(f"/packs/{decorative}/snippets").get_json()
    assert 'alt=""' in snippets["picture.html"]
    assert client.get(f"/packs/{decorative}").get_json()["settings"]["decorative"] is True
    placeholder = client.get(f"/packs/{unnamed}/snippets").get_json()
    assert 'alt="Describe this image"' in placeholder["picture.html"]
    both = client.post(
        "/packs",
        data={"file": (io.BytesIO(photo), "p.jpg"), "decorative": "true", "alt": "A beach"},
    )
    assert both.status_code == 400
    assert both.get_json()["message"].startswith("'decorative'")
