"""`create_app(settings=None)`: the Flask app with its services, blueprints and error handler.

Migrations: when `IMAGES_DATABASE_URL` is unset, the metadata database is the embedded SQLite
file in the data directory, private to this server's processes, so `create_app` brings it up
to date itself (under a file lock, as gunicorn's workers start together). An explicit database
may be shared and is migrated only by `images-server migrate` (which `make run` calls before
`serve`); the app does not change its schema.
"""

from __future__ import annotations

import fcntl
import logging
from pathlib import Path

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from images_server.db import migrate
from images_server.http import (
    access,
    docs,
    external,
    focal,
    health,
    images,
    manage,
    packs,
    ui,
    upload_tokens,
)
from images_server.http.cors import register_cors
from images_server.http.errors import register_error_handlers
from images_server.http.uploads import MULTIPART_SLACK
from images_server.observability import hooks as observability
from images_server.services import Services, build_services
from images_server.settings import Settings, load_settings

log = logging.getLogger(__name__)


def _security_headers(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def migrate_embedded(settings: Settings) -> None:
    """Upgrade the embedded SQLite database (no `database_url`); one process at a time."""
    if settings.database_url is not None:
        return
    data_dir = Path(settings.data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with open(data_dir / ".migrate.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            migrate.upgrade(settings.database_url_or_default)
    except OSError as error:  # an unusable data dir: the app starts, /readyz says why
        log.error("the metadata database in %s was not migrated: %s", data_dir, error)


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    """The app for `settings` (from the environment when None), on `services` if given."""
    settings = settings or load_settings()
    if services is None or services.database is not None:
        migrate_embedded(settings)
    app = Flask(__name__, static_folder=None)  # the UI serves its own assets under /assets
    observability.init_app(app)  # first: its hooks time and count every request
    if settings.trusted_proxies:  # URLs the API returns say https behind a TLS-ending proxy
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=0, x_proto=settings.trusted_proxies)  # type: ignore[method-assign]
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes + MULTIPART_SLACK

    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["images"] = services or build_services(settings)
    app.url_map.converters["pipeline"] = images.PipelineConverter
    blueprints = (images.bp, manage.bp, focal.bp, packs.bp, external.bp, health.bp, docs.bp, ui.bp)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    app.register_blueprint(upload_tokens.bp)
    register_error_handlers(app)
    access.register_access(app, settings)
    app.after_request(_security_headers)
    register_cors(app, settings)
    return app
