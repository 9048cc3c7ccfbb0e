"""Shared by the client tests: the vectors file, `node`, and a Flask app served over real HTTP."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

CLIENTS = Path(__file__).resolve().parents[2] / "clients"
JS = CLIENTS / "js"


def vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CLIENTS / "vectors.json").read_text(encoding="utf-8"))
    return data


def node() -> str:
    """The real `node`; its absence (or the JS devDependencies') fails the test, never skips it."""
    found = shutil.which("node")
    if found is None:
        pytest.fail("node (Node.js 20+) is missing: it runs the JavaScript client's tests")
    if not (JS / "node_modules" / "next" / "package.json").is_file():
        pytest.fail("clients/js/node_modules is missing: `make test` installs it (npm ci there)")
    return found


@contextmanager
def http_server(app: Flask) -> Iterator[str]:
    """`app` served on a loopback port by werkzeug, threaded; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
