"""The pure parts of `bench.peers` (`make bench-peers`): no thumbor, no images-server.

wrk's output is parsed from text wrk 4.1.0 printed on the development machine; the PSS sum is
taken over a real process tree started here; the cold-cache Lua script is run by the real wrk
against a loopback server that records the paths it was asked for.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from bench.peers import (
    _COLD_LUA,
    CASES,
    CHECK_N,
    COLD_NUMBERS,
    cold_path,
    lua_args,
    parse_wrk,
    pss_kb,
    thumbor_conf,
    tree_pss_kb,
)
from bench.proc import process_tree
from tests.servers import stop

# `wrk -t2 -c4 -d1s --latency` on loopback: a server answering 200, the same server answering
# 404, and one that answers every other connection and closes the rest unanswered.
WRK_OK = """Running 1s test @ http://127.0.0.1:32923/x
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.13ms    2.71ms  21.58ms   88.92%
    Req/Sec   716.52    134.94     0.96k    61.90%
  Latency Distribution
     50%    2.23ms
     75%    4.17ms
     90%    5.90ms
     99%   15.16ms
  1499 requests in 1.10s, 300.09KB read
Requests/sec:   1362.38
Transfer/sec:    272.74KB
"""
WRK_404 = """Running 1s test @ http://127.0.0.1:32923/missing
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.45ms    3.42ms  30.20ms   89.56%
    Req/Sec   679.86    197.67     0.94k    52.38%
  Latency Distribution
     50%    2.10ms
     75%    4.51ms
     90%    6.99ms
     99%   18.79ms
  1420 requests in 1.10s, 721.27KB read
  Non-2xx or 3xx responses: 1420
Requests/sec:   1292.39
Transfer/sec:    656.46KB
"""
WRK_CLOSED = """Running 1s test @ http://127.0.0.1:38563/
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   686.21us    2.55ms  28.26ms   94.11%
    Req/Sec     6.15k     4.78k   11.76k    47.62%
  Latency Distribution
     50%   43.00us
     75%   97.00us
     90%    1.17ms
     99%   15.22ms
  12858 requests in 1.10s, 502.27KB read
  Socket errors: connect 0, read 25716, write 0, timeout 0
Requests/sec:  11644.57
Transfer/sec:    454.87KB
"""


def test_parse_wrk_reads_rate_latencies_and_counts() -> None:
    result = parse_wrk(WRK_OK)
    assert result.rps == 1362.38
    assert (result.p50_ms, result.p99_ms) == (2.23, 15.16)
    assert (result.requests, result.seconds) == (1499, 1.1)
    assert (result.non_2xx, result.socket_errors) == (0, 0)
    assert result.ok_rps == pytest.approx(1499 / 1.1)


def test_parse_wrk_counts_error_answers_out_of_the_good_rate() -> None:
    result = parse_wrk(WRK_404)
    assert (result.requests, result.non_2xx) == (1420, 1420)
    assert result.rps == 1292.39
    assert result.ok_rps == 0.0  # a 404 is no image


def test_parse_wrk_reads_socket_errors_and_microseconds() -> None:
    result = parse_wrk(WRK_CLOSED)
    assert result.p50_ms == pytest.approx(0.043)
    assert result.p99_ms == 15.22
    assert (result.non_2xx, result.socket_errors) == (0, 25716)


def test_parse_wrk_refuses_other_text() -> None:
    with pytest.raises(ValueError, match="wrk --latency"):
        parse_wrk("Running 1s test @ http://127.0.0.1:1/\n")


_PARENT = """
import subprocess, sys, time
code = "import time; b = bytearray(30 << 20); time.sleep(60)"
child = subprocess.Popen([sys.executable, "-c", code])
print(child.pid, flush=True)
time.sleep(60)
"""


def test_pss_is_summed_over_the_whole_process_tree() -> None:
    parent = subprocess.Popen([sys.executable, "-c", _PARENT], stdout=subprocess.PIPE)
    child = 0
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        time.sleep(0.5)  # the child has touched its 30 MB
        assert process_tree(parent.pid) == sorted([parent.pid, child])
        total, count = tree_pss_kb(parent.pid)
        assert count == 2
        assert pss_kb(child) > 30 * 1024  # the bytearray is resident and the child's alone
        assert total == pytest.approx(pss_kb(parent.pid) + pss_kb(child), rel=0.05)
    finally:
        if child:
            os.kill(child, signal.SIGTERM)
        stop(parent)
    assert pss_kb(parent.pid) == 0  # gone: nothing to add


def test_cold_paths_are_distinct_and_stay_within_the_largest_side() -> None:
    for case in CASES:
        base, top = lua_args(case.cold)[1], COLD_NUMBERS
        assert int(base) + max(top, CHECK_N) <= 65535  # MAX_SIDE in the pipeline parser
        assert cold_path(case.cold, 0) != cold_path(case.cold, 1)
    assert cold_path("resize/800x{600+n}/format/webp", 7) == "resize/800x607/format/webp"
    assert lua_args("a/{300+n}x200") == ["a/", "300", "x200"]


def test_thumbor_conf_is_python_with_no_result_storage() -> None:
    conf: dict[str, object] = {}
    exec(thumbor_conf(Path("originals"), Path("storage")), conf)  # noqa: S102 - our own text
    assert conf["RESULT_STORAGE"] is None
    assert conf["ALLOW_UNSAFE_URL"] is True
    assert conf["FILE_LOADER_ROOT_PATH"] == "originals"
    assert (conf["QUALITY"], conf["WEBP_QUALITY"], conf["AVIF_QUALITY"]) == (85, 80, 60)


class _Recorder(BaseHTTPRequestHandler):
    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.paths.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    paths: list[str] = []
    handler = type("Handler", (_Recorder,), {"paths": paths, "protocol_version": "HTTP/1.1"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", paths
    finally:
        server.shutdown()
        server.server_close()


def test_the_cold_script_never_repeats_a_path(
    recorder: tuple[str, list[str]], tmp_path: Path
) -> None:
    base, paths = recorder
    script = tmp_path / "cold.lua"
    script.write_text(_COLD_LUA)
    args = ["wrk", "-t2", "-c4", "-d1s", "--latency", "-s", str(script), base + "/", "--"]
    done = subprocess.run(
        [*args, "/image/h/resize/800x", "600", "/format/webp", "1000", "2"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert len(paths) >= parse_wrk(done.stdout).requests > 20  # wrk drops those in flight
    assert len(set(paths)) == len(paths)  # two threads, each its own numbers
    heights = sorted(int(p.split("800x")[1].split("/")[0]) for p in paths)
    assert heights[0] >= 1600  # 600 + first
    assert all(p.endswith("/format/webp") for p in paths)
