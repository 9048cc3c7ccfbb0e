"""`create_app`: every blueprint is registered in `app.py`, so the app's routes are read in one
place, and the app's services carry its API keys and signing keys (no loose extensions)."""

from __future__ import annotations

import ast
from typing import cast

from flask import Flask

from images_server.services import Services
from tests.test_import_cycles import modules


def test_blueprints_are_registered_in_app_py_only() -> None:
    registering = set()
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            called = node.func if isinstance(node, ast.Call) else None
            if isinstance(called, ast.Attribute) and called.attr == "register_blueprint":
                registering.add(name)
    assert registering == {"images_server.app"}


def test_the_app_keeps_its_keys_in_its_services(app: Flask) -> None:
    services = cast(Services, app.extensions["images"])
    assert services.key_checker is not None
    assert len(services.signing_keys.get(services.settings)) == 1
    assert not [name for name in app.extensions if name.startswith("images.signing")]
    assert {rule.rule for rule in app.url_map.iter_rules()} >= {"/metrics", "/readyz", "/"}
