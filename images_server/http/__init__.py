"""The HTTP edge: blueprints that translate requests into spine calls and results into responses."""

from __future__ import annotations

from typing import cast

from flask import current_app

from images_server.services import Services


def services() -> Services:
    """The services `create_app` attached to the running app."""
    return cast(Services, current_app.extensions["images"])
