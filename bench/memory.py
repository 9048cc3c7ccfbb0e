"""Benchmark the memory of `images-server serve`: the whole process tree, and one render's peak.

    python -m bench.memory [--renders 300] [--clients 4]

`make bench-memory` runs this. Two servers are started, one after the other, each on a free
loopback port with its data in a temporary directory and no `IMAGES_*` setting of the caller's
but `IMAGES_PORT` and `IMAGES_DATA_DIR` (and, for the second, the two named below):

- The process tree: `images-server serve` on its defaults (one web worker per core, the
  embedded job worker, filesystem storage and result cache, SQLite database and queue). The
  PSS (proportional set size: each shared page divided among the processes sharing it, so
  the sum is what the tree costs the machine) of every process is read from
  /proc/<pid>/smaps_rollup three times: idle after start; after the samples are uploaded and
  their eager presets rendered by the job worker; and after a bounded load of cold renders
  (`--renders`, default 300, from `--clients` threads, each request its own pipeline: a fit
  box `<W>x<H>` with a different H each time, over every sample, in the source format, WebP
  and AVIF), once the tree is idle again. The anonymous part of the PSS is shared only within
  the tree (by fork); the rest, pages of files such as libvips, is shared with any other
  process mapping the same files, which then takes its part: run this on a quiet machine.
- One render's peak: `serve --no-worker` with one web worker (`IMAGES_WORKERS=1`, no eager
  presets). The 12 MP sample and a 50 MP JPEG (8660x5773, the 12 MP photo enlarged, made
  here with pyvips and never committed) are uploaded, then, once the worker is idle again,
  each is rendered once to `resize/800x`. Before the upload and before the render, the
  worker's peak resident set is reset (`5` into /proc/<pid>/clear_refs); after each, its
  VmHWM (peak RSS) is read from /proc/<pid>/status. RSS counts every page the worker maps,
  shared ones included, so this is what one worker needs on its own.

`report()` does all of it and returns the text that is printed (and written to
bench/results/memory-<date>.md); `bench.peers` may call it too.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from bench.proc import process_tree, wait_idle
from tests.servers import free_port, stop

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
RESULTS = Path(__file__).parent / "results"
CLI = str(Path(sys.executable).parent / "images-server")
PHOTO_12MP = SAMPLES / "photo-12mp-4000x3000.jpg"
SIZE_50MP = (8660, 5773)  # 49,994,180 pixels: under IMAGES_MAX_PIXELS (50,000,000)
PEAK_PIPELINE = "resize/800x"
# The load: request n renders sample n % len(samples) through CASES[n // len(samples) % 4],
# {h} = 600 + n, so no two requests share a pipeline (every one misses the result cache).
CASES = (
    "resize/800x{h}",
    "resize/640x{h}/format/webp",
    "resize/1024x{h}",
    "resize/320x{h}/format/avif",
)


# ---------------------------------------------------------------- /proc


def smaps_rollup(pid: int) -> dict[str, int]:
    """The kB fields of /proc/<pid>/smaps_rollup (`Rss`, `Pss`, `Private_Dirty`, ...)."""
    text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    return {key: int(value) for key, value in re.findall(r"^(\w+):\s+(\d+) kB", text, re.M)}


def status_kb(pid: int, field: str) -> int:
    """A kB field of /proc/<pid>/status, e.g. `VmHWM` (peak RSS) or `VmRSS`."""
    match = re.search(rf"^{field}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    if match is None:
        raise ValueError(f"no {field} in /proc/{pid}/status")
    return int(match[1])


def reset_peak(pid: int) -> None:
    """Set the peak RSS (VmHWM) of `pid` back to its current RSS (Linux >= 4.0)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def _cmdline(pid: int) -> list[bytes]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return []


def role(root: int, pid: int) -> str:
    """What a process of `serve`'s tree is: gunicorn's master, a web worker or the job worker."""
    if pid == root:
        return "master"
    cmdline = _cmdline(pid)
    if b"images_server.cli" in cmdline and b"worker" in cmdline:
        return "job worker"
    return "web worker"


def others_mapping(root: int, needle: str = "libvips") -> int:
    """Processes outside `root`'s tree that map a file whose path holds `needle`: they take a
    part of those pages' PSS."""
    tree = set(process_tree(root))
    count = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in tree:
            continue
        try:
            maps = (entry / "maps").read_text()
        except OSError:
            continue
        count += needle in maps
    return count


@dataclass(frozen=True)
class Process:
    pid: int
    role: str
    pss_kb: int
    anon_pss_kb: int  # Pss_Anon: shared only within the tree (by fork), so others do not count
    rss_kb: int
    private_kb: int  # Private_Clean + Private_Dirty: what only this process maps


def snapshot(root: int) -> list[Process]:
    """Every process of `root`'s tree with its memory, the master first."""
    found = []
    for pid in process_tree(root):
        try:
            rollup = smaps_rollup(pid)
        except OSError:  # gone since the listing
            continue
        private = rollup.get("Private_Clean", 0) + rollup.get("Private_Dirty", 0)
        anon = rollup.get("Pss_Anon", 0)
        found.append(Process(pid, role(root, pid), rollup["Pss"], anon, rollup["Rss"], private))
    order = {"master": 0, "web worker": 1, "job worker": 2}
    return sorted(found, key=lambda p: (order[p.role], p.pid))


def _mb(kb: int) -> str:
    return f"{kb / 1024:.0f} MB"


def snapshot_table(snapshots: dict[str, list[Process]]) -> str:
    """One row per process and moment, and a total per moment."""
    out = "| when | process | PSS | of it anonymous | RSS | private |\n|---|---|---|---|---|---|\n"
    for when, processes in snapshots.items():
        for process in processes:
            out += (
                f"| {when} | {process.role} ({process.pid}) | {_mb(process.pss_kb)} | "
                f"{_mb(process.anon_pss_kb)} | {_mb(process.rss_kb)} | "
                f"{_mb(process.private_kb)} |\n"
            )
        total, anon = sum(p.pss_kb for p in processes), sum(p.anon_pss_kb for p in processes)
        out += (
            f"| {when} | **total, {len(processes)} processes** | **{_mb(total)}** | "
            f"{_mb(anon)} | | |\n"
        )
    return out


# ---------------------------------------------------------------- servers and load


def _env(port: int, data_dir: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGES_")}
    return env | {"IMAGES_PORT": str(port), "IMAGES_DATA_DIR": str(data_dir)} | extra


@contextmanager
def serve(
    tmp: Path, name: str, extra: dict[str, str] | None = None, args: tuple[str, ...] = ()
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`images-server serve` with its data in `tmp/name`; the base URL and the process, once
    `/healthz` answers."""
    port = free_port()
    log = tmp / f"{name}.log"
    env = _env(port, tmp / name, extra or {})
    with log.open("wb") as out:
        process = subprocess.Popen(
            [CLI, "serve", *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"images-server did not start:\n{log.read_text()[-3000:]}")
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        yield base, process
    finally:
        stop(process)


def upload(base: str, data: bytes, name: str) -> str:
    answer = requests.post(f"{base}/upload", files={"file": (name, data)}, timeout=120)
    answer.raise_for_status()
    return str(answer.json()["hash"])


def load(base: str, hashes: list[str], renders: int, clients: int) -> dict[int, int]:
    """`renders` cold renders from `clients` threads; how many answers of each status."""
    local = threading.local()
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def one(n: int) -> None:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        image = hashes[n % len(hashes)]
        pipeline = CASES[n // len(hashes) % len(CASES)].format(h=600 + n)
        status = session.get(f"{base}/image/{image}/{pipeline}", timeout=120).status_code
        with lock:
            statuses[status] = statuses.get(status, 0) + 1

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(renders)))
    return statuses


def photo_50mp() -> bytes:
    """The 12 MP sample enlarged to 8660x5773, as a quality-90 JPEG (about 10 MB)."""
    import pyvips

    photo = pyvips.Image.new_from_file(str(PHOTO_12MP))
    big = photo.resize(SIZE_50MP[0] / photo.width, vscale=SIZE_50MP[1] / photo.height)
    data: bytes = big.jpegsave_buffer(Q=90)
    return data


@dataclass(frozen=True)
class Peak:
    image: str
    idle_kb: int  # the worker's RSS before the upload
    upload_kb: int  # its peak RSS while uploading (the full decode check)
    before_kb: int  # its RSS just before the render
    render_kb: int  # its peak RSS while rendering


def measure_peaks(tmp: Path) -> list[Peak]:
    """One web worker, no job worker: the peak RSS of uploading, then rendering, each image."""
    images = {
        "12 MP JPEG (4000x3000)": PHOTO_12MP.read_bytes(),
        "50 MP JPEG (8660x5773)": photo_50mp(),
    }
    extra = {"IMAGES_WORKERS": "1", "IMAGES_EAGER_PRESETS": ""}
    peaks = []
    with serve(tmp, "peak", extra, ("--no-worker",)) as (base, process):
        wait_idle(process.pid, quiet=1.0)
        (worker,) = [pid for pid in process_tree(process.pid) if pid != process.pid]
        for name, data in images.items():
            idle = status_kb(worker, "VmRSS")
            reset_peak(worker)
            image = upload(base, data, "big.jpg")
            upload_peak = status_kb(worker, "VmHWM")
            wait_idle(process.pid, quiet=1.5)  # the worker has trimmed what the upload freed
            before = status_kb(worker, "VmRSS")
            reset_peak(worker)
            answer = requests.get(f"{base}/image/{image}/{PEAK_PIPELINE}", timeout=120)
            if answer.status_code != 200:
                raise SystemExit(f"{name}: {answer.status_code} {answer.text[:300]}")
            peaks.append(Peak(name, idle, upload_peak, before, status_kb(worker, "VmHWM")))
    return peaks


def peak_table(peaks: list[Peak]) -> str:
    out = (
        f"| one web worker | RSS idle | peak RSS uploading | RSS before | "
        f"**peak RSS rendering `{PEAK_PIPELINE}`** |\n|---|---|---|---|---|\n"
    )
    for peak in peaks:
        out += (
            f"| {peak.image} | {_mb(peak.idle_kb)} | {_mb(peak.upload_kb)} | "
            f"{_mb(peak.before_kb)} | **{_mb(peak.render_kb)}** |\n"
        )
    return out


def measure_tree(tmp: Path, renders: int, clients: int) -> tuple[dict[str, list[Process]], str]:
    """PSS snapshots of `serve` on its defaults: idle, after uploads, after the load."""
    snapshots: dict[str, list[Process]] = {}
    samples = sorted(p for p in SAMPLES.iterdir() if p.suffix in {".jpg", ".png"})
    with serve(tmp, "tree") as (base, process):
        wait_idle(process.pid)
        snapshots["idle"] = snapshot(process.pid)
        hashes = [upload(base, path.read_bytes(), path.name) for path in samples]
        wait_idle(process.pid)  # the job worker has rendered the eager presets
        snapshots["uploaded"] = snapshot(process.pid)
        started = time.monotonic()
        statuses = load(base, hashes, renders, clients)
        seconds = time.monotonic() - started
        wait_idle(process.pid)
        snapshots["after load"] = snapshot(process.pid)
        others = others_mapping(process.pid)
    answers = ", ".join(f"{count} x {status}" for status, count in sorted(statuses.items()))
    note = (
        f"{len(samples)} samples uploaded; load: {renders} cold renders from {clients} "
        f"clients in {seconds:.1f} s ({answers}); {others} processes outside the tree mapped "
        "libvips (0 on a quiet machine)"
    )
    return snapshots, note


def versions() -> str:
    import platform
    from importlib.metadata import version

    import pyvips

    vips = ".".join(str(pyvips.version(i)) for i in range(3))
    return (
        f"images-server {version('images-server')} (libvips {vips}); "
        f"Python {platform.python_version()}; {platform.system()} {platform.release()}; "
        f"{os.cpu_count()} cores"
    )


def report(renders: int = 300, clients: int = 4) -> str:
    """Run both measurements and return them as Markdown."""
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as name:
        tmp = Path(name)
        snapshots, note = measure_tree(tmp, renders, clients)
        peaks = measure_peaks(tmp)
    return (
        f"{versions()}\n\n`images-server serve` on its defaults; {note}.\n\n"
        f"{snapshot_table(snapshots)}\n{peak_table(peaks)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=300, help="cold renders of the load")
    parser.add_argument("--clients", type=int, default=4, help="threads sending them")
    args = parser.parse_args()
    stamp = datetime.datetime.now().strftime("%Y-%m-%d-%H%M")
    text = f"# images-server memory, {stamp}\n\n{report(args.renders, args.clients)}"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"memory-{stamp}.md").write_text(text)


if __name__ == "__main__":
    main()
