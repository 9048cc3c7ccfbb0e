"""SIGTERM to gunicorn's master drains: the request being rendered is finished and answered
`200`, then the server exits (docs/api.md §8, README "Graceful drain")."""

from __future__ import annotations

import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from tests.serving.server import serving
from tests.serving.wire import address, read_reply

ENV = {"IMAGES_WORKERS": "1", "IMAGES_RENDER_TIMEOUT": "60"}


def test_sigterm_finishes_the_render_in_flight(tmp_path: Path, samples: Path) -> None:
    with serving(tmp_path, ENV) as served, ThreadPoolExecutor(1) as pool:
        photo = (samples / "photo-12mp-4000x3000.jpg").read_bytes()
        url = requests.post(f"{served.base}/upload", files={"file": photo}, timeout=30).json()[
            "url"
        ]
        started = time.monotonic()
        in_flight = pool.submit(requests.get, f"{url}/resize/3000x/blur/15", timeout=90)
        time.sleep(1.0)  # the render has started
        assert not in_flight.done()
        served.process.send_signal(signal.SIGTERM)
        # sent after the signal: waits in the backlog while the worker finishes, then is
        # answered a clean 503 by the stopping worker, never reset or left hanging
        late = _late_request(served.base)

        answer = in_flight.result()
        assert answer.status_code == 200, answer.text
        assert answer.headers["Content-Type"] == "image/jpeg"
        assert served.process.wait(90) == 0
        assert time.monotonic() - started < 90
    assert late == "HTTP 503", late
    assert "answered 1 waiting connection(s) 503 while stopping" in served.log_text()


def _late_request(base: str) -> str:
    """What a client connecting after SIGTERM gets, in a word."""
    time.sleep(0.3)  # the master has closed its listener
    try:
        with socket.create_connection(address(base), timeout=10) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return f"HTTP {read_reply(sock, timeout=60).status}"
    except ConnectionRefusedError:
        return "refused"
    except ConnectionResetError:
        return "reset"
    except ConnectionError:
        return "closed"
