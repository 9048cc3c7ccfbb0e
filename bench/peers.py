"""Benchmark images-server against thumbor over HTTP: req/s, latency and memory, on loopback.

    python -m bench.peers --thumbor .venv/bench-thumbor/bin/thumbor [--rounds 3] [--duration 10]

`make bench-peers` installs thumbor 7.7.7 and pillow-avif-plugin 1.6.0 (pinned in the Makefile)
into their own venv, `.venv/bench-thumbor`, and runs this.
Both servers run at once on free loopback ports, each with its own temporary directory:

- images-server: `images-server serve` with its defaults (one web worker per core, the embedded
  job worker, the filesystem result cache); only `IMAGES_PORT` and `IMAGES_DATA_DIR` are set.
  The samples are uploaded, and the load starts once the eager presets are rendered (the
  process tree's CPU time has stopped growing).
- thumbor: `thumbor --processes N` (N = cores, as images-server's workers), the file loader
  rooted at a copy of the samples, its default original storage (rooted in the temporary
  directory) and no result storage (its default). Its encoder qualities are set to
  images-server's defaults (JPEG 85, WebP 80, AVIF 60; AVIF speed 9 = libvips effort 0) so
  both encode alike; everything else is thumbor's default (progressive JPEG included, and
  WebP at Pillow's method 4, where images-server uses 2: see `make bench-encoders`).

Cases (`CASES`): the 12 MP photo to 800 wide in JPEG, WebP and AVIF, and the 1 MP photo filled
and cropped to 300x200. Each is measured cold and warm, with `wrk -t2 -c4 -dNs --latency`, in
interleaved rounds (round 1: every case and server, then round 2, ...).

- cold: every images-server request misses its result cache. A wrk Lua script gives each
  request its own pipeline whose output (and work) is the same as the case's: a fit box of
  `800x<H>` with H >= 600 is 800x600 for a 4000x3000 photo, and `crop/<W>x200` with W >= 300 is
  clipped to the 300 wide image, so it is the centre 300x200 crop. The result-cache lookups
  in `/metrics` are checked to be all misses. thumbor without result storage renders every
  request, so it gets its plain URL.
- warm: the same URL again and again: images-server answers from its result cache (checked:
  all hits). thumbor has no result cache by default and renders each time; it is measured
  anyway, so the column says what a cache is worth against it.

Printed and written to bench/results/peers-<date>.md: per case the median over rounds of
req/s and p50/p99 latency, non-2xx/3xx answers and socket errors summed over rounds, the
ratio images-server / thumbor, the output size each returns, and the PSS (proportional set
size, from /proc/<pid>/smaps_rollup) of each server's whole process tree, twice after each
run: as wrk stops (renders still in flight), and once the tree is idle (under 2% of a core
for `SETTLE_SECONDS`), which is what the load left behind. Every run starts from idle.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench.proc import process_tree, wait_idle
from images_server.engines.vips.encode import AVIF_EFFORT
from tests.servers import free_port, stop

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
RESULTS = Path(__file__).parent / "results"
CLI = str(Path(sys.executable).parent / "images-server")
# libvips' AVIF effort e is libaom's speed 9 - e; thumbor's WebP method is Pillow's (4)
THUMBOR_QUALITY = {
    "QUALITY": 85,
    "WEBP_QUALITY": 80,
    "AVIF_QUALITY": 60,
    "AVIF_SPEED": 9 - AVIF_EFFORT,
}
BIG, SMALL = "photo-12mp-4000x3000.jpg", "photo-1mp-1200x900.jpg"
# The cold numbers n of one case never repeat in a whole run: H or W = base + n <= 65535,
# the largest side a pipeline may name. Round r of a case uses n from (r - 1) * span.
COLD_NUMBERS = 64000
SETTLE_SECONDS = 2.0  # a server is idle after a load once its tree used < 2% of a core this long
CHECK_N = 64900  # above every run's numbers: compared with the warm answer once


@dataclass(frozen=True)
class Case:
    name: str
    sample: str
    pipeline: str  # images-server, warm (and what the cold one renders)
    cold: str  # images-server, with `{n}` (n >= 0) making each request's own cache key
    thumbor: str  # thumbor's path, before the image's


CASES = (
    Case("12 MP → 800w JPEG", BIG, "resize/800x", "resize/800x{600+n}", "800x0"),
    Case(
        "1 MP → 300x200 fill",
        SMALL,
        "resize/300x200%5E/crop/300x200",
        "resize/300x200%5E/crop/{300+n}x200",
        "300x200",
    ),
    Case(
        "12 MP → 800w WebP",
        BIG,
        "resize/800x/format/webp",
        "resize/800x{600+n}/format/webp",
        "800x0/filters:format(webp)",
    ),
    Case(
        "12 MP → 800w AVIF",
        BIG,
        "resize/800x/format/avif",
        "resize/800x{600+n}/format/avif",
        "800x0/filters:format(avif)",
    ),
)


# ---------------------------------------------------------------- pure parts (tested)


@dataclass(frozen=True)
class WrkResult:
    rps: float  # every answer, errors included, as wrk counts
    seconds: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int  # wrk's "Non-2xx or 3xx responses"
    socket_errors: int  # connect + read + write + timeout

    @property
    def ok_rps(self) -> float:
        """Answers that were not errors, per second (a quick 503 is no rendered image)."""
        return (self.requests - self.non_2xx) / self.seconds


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _latency_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"not a wrk latency: {text!r}")
    return float(match[1]) * _UNITS_MS[match[2]]


def parse_wrk(out: str) -> WrkResult:
    """What `wrk --latency` printed: req/s, p50 and p99 in ms, requests, errors."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s*50%\s+(\S+)", out, re.MULTILINE)
    p99 = re.search(r"^\s*99%\s+(\S+)", out, re.MULTILINE)
    total = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m),", out, re.MULTILINE)
    if rps is None or p50 is None or p99 is None or total is None:
        raise ValueError(f"not the output of `wrk --latency`:\n{out}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    return WrkResult(
        rps=float(rps[1]),
        seconds=_latency_ms(total[2] + total[3]) / 1000,
        p50_ms=_latency_ms(p50[1]),
        p99_ms=_latency_ms(p99[1]),
        requests=int(total[1]),
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


def pss_kb(pid: int, proc: Path = Path("/proc")) -> int:
    """The `Pss:` of one process, in kB (0 if it has gone)."""
    try:
        rollup = (proc / str(pid) / "smaps_rollup").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    match = re.search(r"^Pss:\s+(\d+) kB", rollup, re.MULTILINE)
    if match is None:
        raise ValueError(f"no Pss in /proc/{pid}/smaps_rollup")
    return int(match[1])


def tree_pss_kb(root: int) -> tuple[int, int]:
    """Summed PSS in kB of `root`'s process tree, and how many processes it holds."""
    pids = process_tree(root)
    return sum(pss_kb(pid) for pid in pids), len(pids)


def cold_path(template: str, n: int) -> str:
    """`template` with its `{600+n}`-style fields filled in for request number `n`."""
    return re.sub(r"\{(\d+)\+n\}", lambda m: str(int(m[1]) + n), template)


# A wrk script: each request gets its own number, `first`, first + 1, ... (threads interleave).
_COLD_LUA = """
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  prefix, base, suffix, first, nthreads = args[1], tonumber(args[2]), args[3],
    tonumber(args[4]), tonumber(args[5])
end
function request()
  local n = first + counter * nthreads + id
  counter = counter + 1
  return wrk.format(nil, prefix .. tostring(base + n) .. suffix)
end
"""


def lua_args(path: str) -> list[str]:
    """The cold script's arguments for a path holding one `{B+n}` field."""
    match = re.fullmatch(r"(.*)\{(\d+)\+n\}(.*)", path)
    if match is None:
        raise ValueError(f"no {{B+n}} field in {path!r}")
    return [match[1], match[2], match[3]]


# ---------------------------------------------------------------- servers and load


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    base: str
    warm_path: dict[str, str] = field(default_factory=dict)  # by case name
    cold_path: dict[str, str] = field(default_factory=dict)


def stop_tree(process: subprocess.Popen[bytes]) -> None:
    """Stop `process` and then whatever of its tree outlived it (thumbor's forked children
    are not told to stop when their parent is)."""
    tree = {pid: _cmdline(pid) for pid in process_tree(process.pid) if pid != process.pid}
    stop(process)
    deadline = time.monotonic() + 15
    for sig in (signal.SIGTERM, signal.SIGKILL):
        left = [pid for pid, cmd in tree.items() if cmd and _cmdline(pid) == cmd]
        for pid in left:
            os.kill(pid, sig)
        while left and time.monotonic() < deadline:
            time.sleep(0.2)
            left = [pid for pid in left if _cmdline(pid) == tree[pid]]
        if not left:
            return


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def wait_until(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url} exited early: see {log}\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within 90 s: see {log}")


@contextmanager
def start_images_server(tmp: Path) -> Iterator[Server]:
    port = free_port()
    env = os.environ | {"IMAGES_PORT": str(port), "IMAGES_DATA_DIR": str(tmp / "data")}
    env = {k: v for k, v in env.items() if not k.startswith("IMAGES_") or k in _OURS}
    log = tmp / "images-server.log"
    with log.open("wb") as out:
        process = subprocess.Popen([CLI, "serve"], env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(f"{base}/healthz", process, log)
        hashes = {}
        for sample in {case.sample for case in CASES}:
            with (SAMPLES / sample).open("rb") as file:
                answer = requests.post(f"{base}/upload", files={"file": file}, timeout=60)
            answer.raise_for_status()
            hashes[sample] = answer.json()["hash"]
        server = Server("images-server", process, base)
        for case in CASES:
            image = f"/image/{hashes[case.sample]}"
            server.warm_path[case.name] = f"{image}/{case.pipeline}"
            server.cold_path[case.name] = f"{image}/{case.cold}"
        yield server
    finally:
        stop_tree(process)


_OURS = ("IMAGES_PORT", "IMAGES_DATA_DIR")


def thumbor_conf(originals: Path, storage: Path) -> str:
    lines = {
        "LOADER": "thumbor.loaders.file_loader",
        "FILE_LOADER_ROOT_PATH": str(originals),
        "STORAGE": "thumbor.storages.file_storage",  # the default, rooted in our directory
        "FILE_STORAGE_ROOT_PATH": str(storage),
        "RESULT_STORAGE": None,  # the default: no result cache
        "ALLOW_UNSAFE_URL": True,
        **THUMBOR_QUALITY,
    }
    return "".join(f"{key} = {value!r}\n" for key, value in lines.items())


@contextmanager
def start_thumbor(tmp: Path, executable: Path, processes: int) -> Iterator[Server]:
    originals = tmp / "thumbor-originals"
    originals.mkdir()
    for sample in {case.sample for case in CASES}:
        shutil.copyfile(SAMPLES / sample, originals / sample)
    conf = tmp / "thumbor.conf"
    conf.write_text(thumbor_conf(originals, tmp / "thumbor-storage"))
    port = free_port()
    log = tmp / "thumbor.log"
    args = [str(executable), "-i", "127.0.0.1", "-p", str(port), "-c", str(conf)]
    args += ["--processes", str(processes), "-l", "warning"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("THUMBOR")}
    with log.open("wb") as out:
        process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(f"{base}/healthcheck", process, log)
        server = Server("thumbor", process, base)
        for case in CASES:
            path = f"/unsafe/{case.thumbor}/{case.sample}"
            server.warm_path[case.name] = server.cold_path[case.name] = path
        yield server
    finally:
        stop_tree(process)


def run_wrk(url: str, duration: int, script: Path | None, script_args: list[str]) -> WrkResult:
    args = ["wrk", "-t2", "-c4", f"-d{duration}s", "--latency", "--timeout", "60s"]
    if script is not None:
        args += ["-s", str(script)]
    args.append(url)
    if script_args:
        args += ["--", *script_args]
    done = subprocess.run(args, capture_output=True, text=True, timeout=duration + 90)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed on {url}:\n{done.stdout}\n{done.stderr}")
    return parse_wrk(done.stdout)


def cache_lookups(base: str) -> dict[str, float]:
    text = requests.get(f"{base}/metrics", timeout=10).text
    found = re.findall(r'^images_result_cache_lookups_total\{result="(\w+)"\} (\S+)$', text, re.M)
    return {result: float(value) for result, value in found}


@dataclass
class Row:
    case: str
    cache: str  # cold or warm
    runs: dict[str, list[WrkResult]] = field(default_factory=dict)  # by server
    pss_end_kb: dict[str, int] = field(default_factory=dict)  # as this row's last run ended
    pss_kb: dict[str, int] = field(default_factory=dict)  # then, once the server is idle
    body: dict[str, str] = field(default_factory=dict)  # what one answer was


def describe_body(data: bytes) -> str:
    from images_server.formats.sniff import sniff

    info = sniff(data)
    return f"{info.width}x{info.height} {info.format.upper()} {len(data) / 1024:.0f} KB"


def measure(
    servers: list[Server], rounds: int, duration: int, script: Path, log: list[str]
) -> list[Row]:
    rows = [Row(case.name, cache) for case in CASES for cache in ("cold", "warm")]
    for server in servers:  # one answer of each, to compare; primes the warm URL
        for case in CASES:
            answer = requests.get(server.base + server.warm_path[case.name], timeout=120)
            if answer.status_code != 200:
                raise SystemExit(f"{server.name} {case.name}: {answer.status_code}")
            for row in rows:
                if row.case == case.name:
                    row.body[server.name] = describe_body(answer.content)
            cold = server.base + cold_path(server.cold_path[case.name], CHECK_N)
            if requests.get(cold, timeout=120).content != answer.content:
                raise SystemExit(f"{server.name} {case.name}: {cold} is not the warm answer")
    span = COLD_NUMBERS // rounds
    for round_ in range(1, rounds + 1):
        for row in rows:
            for server in servers:
                path = (server.cold_path if row.cache == "cold" else server.warm_path)[row.case]
                cold_is = row.cache == "cold" and "{" in path
                args: list[str] = []
                if cold_is:
                    args = [*lua_args(path), str((round_ - 1) * span), "2"]
                counts = cache_lookups(server.base) if server.name == "images-server" else {}
                base_url = server.base + (path if not cold_is else "/")
                result = run_wrk(base_url, duration, script if cold_is else None, args)
                check = ""
                if counts:
                    after = cache_lookups(server.base)
                    hits = after.get("hit", 0) - counts.get("hit", 0)
                    misses = after.get("miss", 0) - counts.get("miss", 0)
                    check = f", cache {hits:.0f} hits / {misses:.0f} misses"
                    wrong = hits if row.cache == "cold" else misses
                    if wrong:
                        check += "  <-- NOT ALL " + ("MISSES" if row.cache == "cold" else "HITS")
                if cold_is and result.requests > span:
                    check += "  <-- more requests than distinct URLs"
                row.runs.setdefault(server.name, []).append(result)
                row.pss_end_kb[server.name] = tree_pss_kb(server.process.pid)[0]
                # Renders still in flight when wrk stops are the load's, not what it leaves.
                wait_idle(server.process.pid, quiet=SETTLE_SECONDS, limit=60)
                row.pss_kb[server.name] = tree_pss_kb(server.process.pid)[0]
                line = (
                    f"round {round_} {row.case} {row.cache:4} {server.name:13} "
                    f"{result.ok_rps:7.1f} ok req/s ({result.rps:.1f} all), "
                    f"p50 {result.p50_ms:.1f} ms "
                    f"p99 {result.p99_ms:.1f} ms, {result.requests} requests, "
                    f"non-2xx {result.non_2xx}, socket errors {result.socket_errors}{check}"
                )
                print(line, flush=True)
                log.append(line)
    return rows


def _median(results: list[WrkResult], attr: str) -> float:
    return statistics.median(float(getattr(r, attr)) for r in results)


def _fmt_rps(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _ratio(mine: float, theirs: float) -> str:
    return f"**x{mine / theirs:.2f}**" if theirs else "—"


def table(rows: list[Row]) -> str:
    head = (
        "| case | cache | images-server 2xx req/s | thumbor 2xx req/s | **ratio** | "
        "images-server p50 / p99 ms | thumbor p50 / p99 ms | non-2xx / socket errors "
        "(i-s; thumbor) | output (i-s; thumbor) |\n|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for row in rows:
        mine, theirs = row.runs["images-server"], row.runs["thumbor"]
        rps = [_median(mine, "ok_rps"), _median(theirs, "ok_rps")]
        errors = "; ".join(
            f"{sum(r.non_2xx for r in rs)} / {sum(r.socket_errors for r in rs)}"
            for rs in (mine, theirs)
        )
        latency = [
            f"{_median(rs, 'p50_ms'):.0f} / {_median(rs, 'p99_ms'):.0f}" for rs in (mine, theirs)
        ]
        lines.append(
            f"| {row.case} | {row.cache} | {_fmt_rps(rps[0])} | {_fmt_rps(rps[1])} | "
            f"{_ratio(*rps)} | {latency[0]} | "
            f"{latency[1]} | {errors} | {row.body['images-server']}; {row.body['thumbor']} |"
        )
    return head + "\n".join(lines) + "\n"


def pss_table(idle: dict[str, tuple[int, int]], rows: list[Row]) -> str:
    out = (
        "| server | processes | PSS idle, after upload | PSS as a load ends (max over cases) "
        "| PSS after the load, once idle (max over cases) |\n|---|---|---|---|---|\n"
    )
    for name, (kb, count) in idle.items():
        ending = max(row.pss_end_kb[name] for row in rows)
        after = max(row.pss_kb[name] for row in rows)
        out += (
            f"| {name} | {count} | {kb / 1024:.0f} MB | {ending / 1024:.0f} MB "
            f"| {after / 1024:.0f} MB |\n"
        )
    return out


def versions(thumbor: Path) -> str:
    pip = thumbor.parent / "pip"
    freeze = subprocess.run([str(pip), "freeze"], capture_output=True, text=True).stdout
    wanted = ("thumbor", "pillow", "pillow-avif-plugin", "tornado")
    theirs = [line for line in freeze.split() if line.split("==")[0].lower() in wanted]
    from importlib.metadata import version

    import pyvips

    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    wrk_version = (wrk.stdout + wrk.stderr).split()[:2]
    vips = ".".join(str(pyvips.version(i)) for i in range(3))
    return (
        f"images-server {version('images-server')} (libvips {vips}); {', '.join(theirs)}; "
        f"{' '.join(wrk_version)}; "
        f"Python {platform.python_version()}; {platform.system()} {platform.release()}; "
        f"{os.cpu_count()} cores"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--thumbor", type=Path, required=True, help="thumbor's executable")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `make system-deps`")
    log: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as name:
        tmp = Path(name)
        script = tmp / "cold.lua"
        script.write_text(_COLD_LUA)
        processes = os.cpu_count() or 1
        with start_images_server(tmp) as mine, start_thumbor(tmp, args.thumbor, processes) as th:
            servers = [mine, th]
            for server in servers:
                wait_idle(server.process.pid)  # images-server: the eager presets rendered
            idle = {server.name: tree_pss_kb(server.process.pid) for server in servers}
            rows = measure(servers, args.rounds, args.duration, script, log)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d-%H%M")
    report = (
        f"# images-server vs thumbor, {stamp}\n\n{versions(args.thumbor)}\n\n"
        f"`wrk -t2 -c4 -d{args.duration}s --latency`, {args.rounds} interleaved rounds; "
        "medians over rounds, errors summed.\n\n"
        f"{table(rows)}\n{pss_table(idle, rows)}\n"
        "Runs:\n\n```\n" + "\n".join(log) + "\n```\n"
    )
    print("\n" + report)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"peers-{stamp}.md").write_text(report)


if __name__ == "__main__":
    main()
