"""The client packages are tested from their source folders, as their users would import them:
`images_client` from clients/python (not installed in the server's venv), and the JavaScript
package under the real `node` with its devDependencies (`make test` runs `npm ci` there)."""

from __future__ import annotations

import sys
from pathlib import Path

CLIENTS = Path(__file__).resolve().parents[2] / "clients"
if str(CLIENTS / "python") not in sys.path:
    sys.path.insert(0, str(CLIENTS / "python"))
