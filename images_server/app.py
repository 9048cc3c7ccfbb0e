"""`create_app(settings=None)`: the Flask app with its services, blueprints and error handler."""

from __future__ import annotations

from flask import Flask, Response

from images_server.http import access, external, health, images
from images_server.http.errors import register_error_handlers
from images_server.services import Services, build_services
from images_server.settings import Settings, load_settings

# Room for the multipart envelope around a file of exactly the upload limit.
MULTIPART_SLACK = 64 * 1024


def _security_headers(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes + MULTIPART_SLACK
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["images"] = services or build_services(settings)
    app.url_map.converters["pipeline"] = images.PipelineConverter
    for blueprint in (images.bp, external.bp, health.bp):
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    access.register_access(app, settings)
    app.after_request(_security_headers)
    return app
