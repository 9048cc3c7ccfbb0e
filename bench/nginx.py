"""Benchmark NGINX's response cache: a cached image through NGINX vs the same bytes as a file.

    python -m bench.nginx samples/photo-1mp-1200x900.jpg [--duration 10]

Starts `images-server serve` (gunicorn) and the production `nginx/nginx.conf` (rendered as the
tests render it, plus one static server block) on loopback, uploads the image, warms one
variant into NGINX's cache (`X-Cache-Status: HIT`), writes the same bytes to a file NGINX
serves statically, then runs a bounded `wrk` on each URL. The ratio cached/static says what
the cache lookup costs over plain file serving. Results go to bench/results/nginx.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from tests.nginx.server import run_nginx
from tests.servers import free_port

VARIANT = "resize/800x/format/webp"
RESULTS = Path(__file__).parent / "results" / "nginx.json"
CLI = str(Path(sys.executable).parent / "images-server")


def wrk(url: str, threads: int, connections: int, duration: int) -> float:
    """Requests per second `wrk` measured on `url` (non-2xx answers fail the run)."""
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 60,
    ).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"wrk saw errors on {url}:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise SystemExit(f"no Requests/sec in wrk's output:\n{out}")
    return float(match[1])


def start_app(root: Path, port: int) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "IMAGES_PORT": str(port),
        "IMAGES_DATA_DIR": str(root / "data"),
        "IMAGES_WORKERS": "2",
    }
    log = (root / "app.log").open("wb")
    process = subprocess.Popen([CLI, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()  # the child holds its own copy
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                return process
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"images-server did not start: see {root / 'app.log'}")


def run(image: Path, threads: int, connections: int, duration: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bench-nginx-") as tmp:
        root = Path(tmp)
        (root / "nginx").mkdir()
        (root / "static").mkdir()
        app_port, static_port = free_port(), free_port()
        static = f"server {{ listen 127.0.0.1:{static_port}; root {root / 'static'}; }}"
        app = start_app(root, app_port)
        try:
            with run_nginx(root / "nginx", f"127.0.0.1:{app_port}", static, False) as nginx:
                with image.open("rb") as file:
                    uploaded = requests.post(
                        f"{nginx.url}/upload", files={"file": file}, timeout=60
                    )
                uploaded.raise_for_status()
                cached_url = f"{nginx.url}/image/{uploaded.json()['hash']}/{VARIANT}"
                requests.get(cached_url, timeout=60).raise_for_status()
                warm = requests.get(cached_url, timeout=60)
                if warm.headers.get("X-Cache-Status") != "HIT":
                    raise SystemExit(f"the variant is not cached: {warm.headers}")
                (root / "static" / "variant.webp").write_bytes(warm.content)
                static_url = f"http://127.0.0.1:{static_port}/variant.webp"
                cached = wrk(cached_url, threads, connections, duration)
                plain = wrk(static_url, threads, connections, duration)
        finally:
            app.terminate()
            app.wait(timeout=30)
    return {
        "image": image.name,
        "variant": VARIANT,
        "bytes": len(warm.content),
        "wrk": f"-t{threads} -c{connections} -d{duration}s",
        "cached_rps": round(cached),
        "static_rps": round(plain),
        "cached_over_static": round(cached / plain, 3),
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=10)
    args = parser.parse_args()
    result = run(args.image, args.threads, args.connections, args.duration)
    print(
        f"{result['variant']} ({result['bytes']} bytes), wrk {result['wrk']}:\n"
        f"  NGINX cache HIT  {result['cached_rps']:>8} req/s\n"
        f"  static file      {result['static_rps']:>8} req/s\n"
        f"  cached / static  {result['cached_over_static']:>8}"
    )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
