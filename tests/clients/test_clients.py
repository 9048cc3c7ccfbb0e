"""The Python and JavaScript signing helpers in clients/: identical URLs, accepted by the server.

The JavaScript helper runs under the real `node` (its own unit tests with `node --test`, and a
driver that signs the table below); a missing `node` fails these tests, it never skips them.
"""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from images_server.app import create_app
from images_server.security.signing import sign, verify
from images_server.settings import Settings
from tests.images import quadrant_bytes

CLIENTS = Path(__file__).resolve().parents[2] / "clients"
NOW = 1_700_000_000.75
KEYS = ("current-key", "clé 🔑 with spaces")

# (path and query, key index, expires_in): `{h}` is an uploaded image's hash.
CASES: list[tuple[str, int, int | None]] = [
    ("/image/{h}/resize/20x", 0, None),
    ("/image/{h}/resize/20x20%5E", 0, 3600),
    ("/image/{h}/resize/20x20^/crop/10x10+1+1", 1, 3600),
    ("/image/{h}/resize/20x20%21?format=webp", 0, None),
    ("/image/{h}/resize/50%25/format/png", 1, 60),
    ("/image/{h}?size=thumb&format=avif", 0, 3600),
    ("/image/{h}/resize/20x?note=caf%C3%A9+au+lait&note=%F0%9F%98%80&n=caf\u00e9", 1, None),
    ("/image/{h}/resize/20x?b=2&a=%5e&a=^&a=!&empty=&flag&&z=a%2Bb+c", 0, 3600),
    ("/image/{h}/resize/20x?expires=1&signature=stale", 0, 3600),
    ("/image/{h}/resize/20x?%EF%BC%A1=1&%F0%9F%98%80=2&~._-=%7E", 1, None),
    ("/image/{h}/blur/zz?bad=%zz&odd=%4", 0, None),
]
HASH = "ab" * 32

SignUrl = Callable[..., str]


def python_sign_url() -> SignUrl:
    spec = importlib.util.spec_from_file_location(
        "images_signing", CLIENTS / "python" / "images_signing.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sign_url: SignUrl = module.sign_url
    return sign_url


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.fail("node (Node.js 20) is missing: it runs the JavaScript client's tests")
    return found


DRIVER = """
const { signUrl, signUrlAsync } = await import(process.argv[1]);
let input = "";
for await (const chunk of process.stdin) input += chunk;
const out = [];
for (const [url, key, expiresIn, now] of JSON.parse(input)) {
  const options = { expiresIn, now };
  out.push([signUrl(url, key, options), await signUrlAsync(url, key, options)]);
}
process.stdout.write(JSON.stringify(out));
"""


def node_sign_urls(node: str, cases: list[tuple[str, str, int | None, float]]) -> list[list[str]]:
    module = (CLIENTS / "js" / "images-signing.mjs").as_uri()
    done = subprocess.run(
        [node, "--input-type=module", "-e", DRIVER, module],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result: list[list[str]] = json.loads(done.stdout)
    return result


def server_sign(url: str, key: str, expires_in: int | None, now: float) -> str:
    path, _, query = url.partition("?")
    expires = None if expires_in is None else int(now // 1) + expires_in
    return sign(path, query, key.encode(), expires)


def test_javascript_unit_tests(node: str) -> None:
    done = subprocess.run(
        [node, "--test", str(CLIENTS / "js")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "# fail 0" in done.stdout
    assert "# pass 0" not in done.stdout


def test_both_clients_and_the_server_sign_alike(node: str) -> None:
    sign_url = python_sign_url()
    table = [(url.format(h=HASH), KEYS[index], expires_in, NOW) for url, index, expires_in in CASES]
    from_node = node_sign_urls(node, table)
    for (url, key, expires_in, now), (from_sync, from_async) in zip(table, from_node, strict=True):
        from_python = sign_url(url, key, expires_in=expires_in, now=now)
        assert from_python == from_sync == from_async == server_sign(url, key, expires_in, now)
        path, _, query = from_python.partition("?")
        expected = None if expires_in is None else 1_700_000_000 + expires_in
        assert verify(path, query, [key.encode()], NOW) == expected


def test_the_server_accepts_both_clients(node: str, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", engine="vips", secret_key=KEYS, require_signature=True
    )
    client = create_app(settings).test_client()
    data = quadrant_bytes(40, 30, "png")
    digest = client.post("/upload", data={"file": (io.BytesIO(data), "q.png")}).get_json()["hash"]
    now = time.time()
    table = [(url.format(h=digest), KEYS[i], expires_in, now) for url, i, expires_in in CASES]
    sign_url = python_sign_url()
    from_node = node_sign_urls(node, table)
    for (url, key, expires_in, _), (from_sync, _from_async) in zip(table, from_node, strict=True):
        unsigned = client.get(url)
        assert unsigned.status_code == 403, url
        for signed in (sign_url(url, key, expires_in=expires_in), from_sync):
            response = client.get(signed)
            assert response.status_code == (400 if "/blur/zz" in url else 200), signed
            if response.status_code == 200:
                assert (response.mimetype or "").startswith("image/")
