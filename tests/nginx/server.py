"""Run the production `nginx/nginx.conf` on loopback: rendered into a temp dir, then started.

`render_conf` is the template step: it swaps the upstream (`app:8000`), the two `listen`
ports, the `user`, the purge handler's directory (nginx/ itself) and every path under
/var/cache/nginx/ for test values, and fails loudly
if any of them is missing from the config, so the file the tests run is the file deployed.
`run_nginx` starts `nginx -p DIR -c CONF` in the foreground and stops it by its pid.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.servers import free_port

CONF = Path(__file__).resolve().parents[2] / "nginx" / "nginx.conf"
NGINX = "/usr/sbin/nginx"


@dataclass(frozen=True)
class Nginx:
    url: str  # the public server, e.g. http://127.0.0.1:PORT
    purge_url: str  # IMAGES_NGINX_PURGE_URL for the app
    prefix: Path


def _swap(text: str, old: str, new: str) -> str:
    if text.count(old) != 1:
        raise AssertionError(f"nginx/nginx.conf no longer has exactly one {old!r}")
    return text.replace(old, new)


def render_conf(prefix: Path, upstream: str, port: int, purge_port: int, extra: str = "") -> str:
    """The production config for a test: same directives, loopback ports, paths in `prefix`."""
    text = CONF.read_text()
    text = _swap(text, "server app:8000;", f"server {upstream};")
    text = _swap(text, "listen 80;", f"listen 127.0.0.1:{port};")
    text = _swap(text, "listen 8080;", f"listen 127.0.0.1:{purge_port};")
    user = "user root;" if os.geteuid() == 0 else ""  # workers must write the temp dir
    text = _swap(text, "user www-data;", user)
    text = _swap(text, "perl_modules /etc/nginx/perl;", f"perl_modules {CONF.parent};")
    if "/var/cache/nginx/" not in text:
        raise AssertionError("nginx/nginx.conf keeps no paths under /var/cache/nginx/")
    text = text.replace("/var/cache/nginx/", f"{prefix}/")
    if extra:  # more server blocks (bench/nginx.py adds a static one), inside http { }
        head, _, tail = text.rpartition("}")
        text = f"{head}{extra}\n}}{tail}"
    return text


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited:\n{log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nginx did not listen on {port}:\n{log.read_text(errors='replace')}")


CACHE_ALIAS = "alias /srv/images/data/cache/;"  # nginx/nginx.conf's: the image's cache


@contextmanager
def run_nginx(
    prefix: Path,
    upstream: str,
    extra: str = "",
    access_log: bool = True,
    read_timeout: str | None = None,
    cache_dir: Path | None = None,
) -> Iterator[Nginx]:
    """NGINX in front of `upstream` (host:port), on free loopback ports, until the block ends;
    `read_timeout` shortens `proxy_read_timeout` for a test of a hung app; `cache_dir` is what
    the internal `/_cache/` location (X-Accel-Redirect) aliases."""
    port, purge_port = free_port(), free_port()
    conf = prefix / "nginx.conf"
    text = render_conf(prefix, upstream, port, purge_port, extra)
    if not access_log:
        text = _swap(text, "access_log /dev/stdout;", "access_log off;")
    if read_timeout:
        text = _swap(text, "proxy_read_timeout 60s;", f"proxy_read_timeout {read_timeout};")
    if cache_dir is not None:
        text = _swap(text, CACHE_ALIAS, f"alias {cache_dir}/;")
    conf.write_text(text)
    log = prefix / "nginx.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [NGINX, "-p", f"{prefix}/", "-c", str(conf), "-e", "stderr", "-g", "daemon off;"],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for_port(port, process, log)
            _wait_for_port(purge_port, process, log)
            yield Nginx(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{purge_port}/_purge", prefix)
        finally:
            process.terminate()
            process.wait(timeout=30)
