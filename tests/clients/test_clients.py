"""Both client packages against each other and against a real app.

The JavaScript package runs under the real `node`: its own tests (`node --test`, including the
Next.js loader through `next`'s `getImageProps` and the shared vectors), its declarations
through `tsc`, and a driver that builds URLs for images uploaded here. A missing `node` or
missing devDependencies fail these tests; they never skip.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from images_client import image_url, sign_url

from images_server.app import create_app
from images_server.security.signing import sign, verify
from images_server.settings import Settings
from tests.clients.support import JS, node, vectors
from tests.images import quadrant_bytes

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

DRIVER = """
const [src] = process.argv.slice(1);
const { imageUrl, signedImageUrl, signer, signUrlSync } = await import(`${src}/node.mjs`);
const now = Date.now() / 1000;
const { signUrl } = await import(`${src}/index.mjs`);
const { createImagesLoader } = await import(`${src}/next.mjs`);
let input = "";
for await (const chunk of process.stdin) input += chunk;
const { paths, builds, loads, key0 } = JSON.parse(input);
const out = { paths: [], builds: [], loads: [] };
for (const [url, key, expiresIn, now] of paths) {
  const options = { expiresIn, now };
  out.paths.push([signUrlSync(url, key, options), await signUrl(url, key, options)]);
}
for (const { hash, ops, query, key, expires_in: expiresIn, now } of builds) {
  const sync = imageUrl(hash, ops, { query, sign: signer(key, { expiresIn, now }) });
  const async_ = await signedImageUrl(hash, ops, { query, key, expiresIn, now });
  out.builds.push([sync, async_]);
}
for (const { src: image, width, quality, options } of loads) {
  const { base_url: baseUrl, ...rest } = options;
  const sign = signer(key0, { expiresIn: 600, now });
  const loader = createImagesLoader({ baseUrl, ...rest, sign });
  out.loads.push(loader({ src: image, width, ...(quality === null ? {} : { quality }) }));
}
process.stdout.write(JSON.stringify(out));
"""


def run_driver(job: dict[str, Any]) -> dict[str, list[Any]]:
    done = subprocess.run(
        [node(), "--input-type=module", "-e", DRIVER, (JS / "src").as_uri()],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result: dict[str, list[Any]] = json.loads(done.stdout)
    return result


def server_sign(url: str, key: str, expires_in: int | None, now: float) -> str:
    path, _, query = url.partition("?")
    expires = None if expires_in is None else int(now // 1) + expires_in
    return sign(path, query, key.encode(), expires)


def test_javascript_package_tests() -> None:
    done = subprocess.run(
        [node(), "--test", "test/"], cwd=JS, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "# fail 0" in done.stdout
    assert "# skipped 0" in done.stdout
    passed = int(done.stdout.split("# pass ")[1].split()[0])
    assert passed >= 20  # the signing, URL, vector and Next.js loader tests all ran


def test_javascript_declarations_type_check() -> None:
    node()
    tsc = JS / "node_modules" / "typescript" / "bin" / "tsc"
    done = subprocess.run(
        [node(), str(tsc), "-p", "tsconfig.json"],
        cwd=JS,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_javascript_package_is_versioned_licensed_and_changelogged() -> None:
    package = json.loads((JS / "package.json").read_text(encoding="utf-8"))
    assert package["name"] == "@images-server/client"
    assert package["type"] == "module"
    assert package.get("dependencies", {}) == {}
    assert {"next", "react", "react-dom", "typescript"} <= set(package["devDependencies"])
    for entry in package["exports"].values():
        if isinstance(entry, dict):
            assert (JS / entry["types"]).is_file()
            assert (JS / entry["default"]).is_file()
    changelog = (JS / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## {package['version']}" in changelog
    assert f'VERSION = "{package["version"]}"' in (JS / "src" / "index.mjs").read_text()
    assert (JS / "LICENSE").read_text() == (JS.parents[1] / "LICENSE").read_text()
    lock = json.loads((JS / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["packages"][""]["devDependencies"] == package["devDependencies"]
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is missing: it packs the JavaScript client")
    packed = subprocess.run(
        [npm, "pack", "--dry-run", "--json", "--ignore-scripts"],
        cwd=JS,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    files = {entry["path"] for entry in json.loads(packed.stdout)[0]["files"]}
    assert {"LICENSE", "CHANGELOG.md", "README.md", "package.json"} <= files
    assert {"src/index.mjs", "src/index.d.ts", "src/next.mjs", "src/next.d.ts"} <= files
    assert not {path for path in files if path.startswith(("test/", "node_modules/"))}


def test_both_clients_and_the_server_sign_alike() -> None:
    table = [(url.format(h=HASH), KEYS[index], expires_in, NOW) for url, index, expires_in in CASES]
    from_node = run_driver({"paths": table, "builds": [], "loads": [], "key0": ""})["paths"]
    for (url, key, expires_in, now), (from_sync, from_async) in zip(table, from_node, strict=True):
        from_python = sign_url(url, key, expires_in=expires_in, now=now)
        assert from_python == from_sync == from_async == server_sign(url, key, expires_in, now)
        path, _, query = from_python.partition("?")
        expected = None if expires_in is None else 1_700_000_000 + expires_in
        assert verify(path, query, [key.encode()], NOW) == expected


def test_the_server_serves_what_both_clients_build(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", engine="vips", secret_key=KEYS, require_signature=True
    )
    client = create_app(settings).test_client()
    data = quadrant_bytes(400, 300, "png")
    digest = client.post("/upload", data={"file": (io.BytesIO(data), "q.png")}).get_json()["hash"]
    now = time.time()
    paths = [(url.format(h=digest), KEYS[i], expires_in, now) for url, i, expires_in in CASES]
    # every vector's ops and query, on this image, signed with a lifetime from now
    builds = [
        {**case, "hash": digest, "key": KEYS[n % 2], "expires_in": 600, "now": int(now)}
        for n, case in enumerate(vectors()["urls"])
    ]
    loads = [
        {**case, "src": case["src"].replace(case["src"].split("image/")[-1][:64], digest)}
        for case in vectors()["next_loader"]
    ]
    built = run_driver({"paths": paths, "builds": builds, "loads": loads, "key0": KEYS[0]})
    for (url, key, expires_in, _), (from_sync, _from_async) in zip(
        paths, built["paths"], strict=True
    ):
        assert client.get(url).status_code == 403, url  # unsigned
        for signed in (sign_url(url, key, expires_in=expires_in), from_sync):
            response = client.get(signed)
            assert response.status_code == (400 if "/blur/zz" in url else 200), signed
    for case, (from_sync, from_async) in zip(builds, built["builds"], strict=True):
        from_python = image_url(
            digest,
            case["ops"],
            query=case["query"],
            key=case["key"],
            expires_in=600,
            now=case["now"],
        )
        assert from_python == from_sync == from_async
        response = client.get(from_python, headers={"Accept": "image/avif,image/webp,*/*"})
        assert response.status_code == 200, (case["name"], from_python, response.get_json())
        assert (response.mimetype or "").startswith("image/")
    for case, url in zip(loads, built["loads"], strict=True):
        path = url.removeprefix(case["options"]["base_url"].rstrip("/"))
        response = client.get(path, headers={"Accept": "image/webp"})
        assert response.status_code == 200, (case["name"], url, response.get_json())
        assert response.mimetype == "image/webp"  # format/auto with this Accept, or format/webp
