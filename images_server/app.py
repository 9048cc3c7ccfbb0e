"""`create_app(settings=None)`: the Flask app with its services, blueprints and error handler.

The services come from `images_server.wiring` (or the caller, for tests). The embedded
metadata database is brought up to date first (`db.migrate.migrate_embedded`); an explicit
one is migrated only by `images-server migrate`: the app does not change its schema.
"""

from __future__ import annotations

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from images_server.db.migrate import migrate_embedded
from images_server.http import (
    access,
    docs,
    external,
    focal,
    health,
    images,
    manage,
    metrics,
    packs,
    ui,
    upload_tokens,
)
from images_server.http.cors import register_cors
from images_server.http.errors import register_error_handlers
from images_server.http.uploads import MULTIPART_SLACK
from images_server.observability import hooks as observability
from images_server.services import Services
from images_server.settings import Settings, load_settings
from images_server.wiring import for_web


def _security_headers(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


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
    services = for_web(settings, services)
    app.extensions["images"] = services
    app.url_map.converters["pipeline"] = images.PipelineConverter
    blueprints = (
        images.bp,
        manage.bp,
        focal.bp,
        packs.bp,
        external.bp,
        health.bp,
        metrics.bp,
        docs.bp,
        ui.bp,
        upload_tokens.bp,
    )
    for blueprint in blueprints:  # every route of the app, here
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    access.register_access(app, services)
    app.after_request(_security_headers)
    register_cors(app, settings)
    return app
