"""Run the upload fuzzer for a bounded time and print executions and failures (`make fuzz`).

    python -m fuzz.run [--seconds 60] [--engine auto|atheris|hypothesis] [--out DIR]
    python -m fuzz.run --replay FINDING.bin ...

With atheris installed (the `dev` extra) the target runs under libFuzzer in a child process,
seeded from `fuzz.seeds`; without it, a hypothesis loop mutates the same seeds in this
process. Either way the exit status is 1 when there was any failure: a finding recorded by
the target, or a crash, timeout or out-of-memory reported by libFuzzer.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from fuzz.seeds import MAX_LEN, mutate, seeds, write_seeds
from fuzz.target import UploadTarget

_EXECUTED = re.compile(r"stat::number_of_executed_units:\s*(\d+)")
_DONE = re.compile(r"Done (\d+) runs in")
_NUMBERS = re.compile(r"\b[0-9a-f]{16,}\b|\d+")
_ARTIFACTS = ("crash-", "timeout-", "oom-", "leak-", "slow-unit-")
PER_INPUT_TIMEOUT = 10  # seconds libFuzzer allows one input before calling it a timeout
GRACE = 60  # seconds past the budget before the child is killed


def run_atheris(seconds: int, out: Path) -> tuple[int, int]:
    corpus, findings = out / "corpus", out / "findings"
    findings.mkdir(parents=True, exist_ok=True)
    count = write_seeds(corpus)
    print(f"fuzz: atheris/libFuzzer, {count} seeds, {seconds} s", flush=True)
    command = [
        sys.executable,
        "-m",
        "fuzz.atheris_upload",
        str(findings),
        str(out / "data"),
        f"-max_total_time={seconds}",
        f"-timeout={PER_INPUT_TIMEOUT}",
        f"-max_len={MAX_LEN}",
        "-rss_limit_mb=4096",
        "-print_final_stats=1",
        f"-artifact_prefix={findings}/",
        str(corpus),
    ]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, errors="replace", timeout=seconds + GRACE
        )
    finally:
        shutil.rmtree(out / "data", ignore_errors=True)
    log = done.stdout + done.stderr
    (out / "libfuzzer.log").write_text(log)
    executed = _EXECUTED.search(log) or _DONE.search(log)
    executions = int(executed[1]) if executed else 0
    crashes = [p for p in findings.iterdir() if p.name.startswith(_ARTIFACTS)]
    recorded = list(findings.glob("*.txt"))
    if done.returncode != 0 and not crashes:
        print(log[-3000:], file=sys.stderr)
        crashes.append(out / "libfuzzer.log")  # it stopped for a reason it did not save
    return executions, len(recorded) + len(crashes)


def run_hypothesis(seconds: int, out: Path) -> tuple[int, int]:
    found = list(seeds().values())
    print(f"fuzz: hypothesis, {len(found)} seeds, {seconds} s", flush=True)
    target = UploadTarget(out / "findings", out / "data")
    mutations = st.tuples(
        st.integers(0, 5), st.integers(0, MAX_LEN), st.integers(0, 255), st.binary(max_size=16)
    )
    mutated = st.tuples(st.sampled_from(found), st.lists(mutations, min_size=1, max_size=6))
    inputs = st.one_of(
        st.binary(max_size=2048),
        mutated.map(lambda pair: _apply(pair[0], pair[1])),
    )

    @settings(
        max_examples=200,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(inputs)
    def batch(data: bytes) -> None:
        target(data)

    stop = time.monotonic() + seconds
    try:
        while time.monotonic() < stop:
            batch()
    finally:
        target.close()
    return target.executions, target.failures


def _apply(data: bytes, changes: list[tuple[int, int, int, bytes]]) -> bytes:
    for kind, position, value, blob in changes:
        data = mutate(data, kind, position, value, blob)
    return data[:MAX_LEN]


def summary(findings: Path, limit: int = 12) -> list[str]:
    """The kinds of failure recorded (last line of each reason, numbers masked), commonest first."""
    kinds: Counter[str] = Counter()
    for path in findings.glob("*.txt"):
        lines = path.read_text(errors="replace").strip().splitlines()
        kinds[_NUMBERS.sub("N", lines[-1])[:240] if lines else "?"] += 1
    kinds.update(p.name.split("-")[0] for p in findings.iterdir() if p.name.startswith(_ARTIFACTS))
    return [f"{count:6d}  {kind}" for kind, count in kinds.most_common(limit)]


def replay(paths: list[Path], out: Path) -> int:
    """Run the target once on each file; print what it finds."""
    target = UploadTarget(out / "findings", out / "data")
    try:
        for path in paths:
            before = target.failures
            target(path.read_bytes())
            print(f"{path}: {'FAILS' if target.failures > before else 'ok'}")
    finally:
        target.close()
    if target.failures:
        print(f"reasons in {out / 'findings'}")
    return 1 if target.failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--engine", choices=["auto", "atheris", "hypothesis"], default="auto")
    parser.add_argument("--out", type=Path, help="where findings go (default: a temp dir)")
    parser.add_argument("--replay", type=Path, nargs="+", help="check these inputs once")
    args = parser.parse_args(argv)
    engine = args.engine
    if engine == "auto":
        engine = "atheris" if importlib.util.find_spec("atheris") else "hypothesis"
    out = args.out or Path(tempfile.mkdtemp(prefix="images-server-fuzz-"))
    out.mkdir(parents=True, exist_ok=True)
    if args.replay:
        return replay(args.replay, out)
    print(f"fuzz: output in {out}", flush=True)
    started = time.monotonic()
    runner = run_atheris if engine == "atheris" else run_hypothesis
    executions, failures = runner(args.seconds, out)
    elapsed = time.monotonic() - started
    if failures:
        print("fuzz: kinds of failure (count, last line of the reason):")
        print("\n".join(summary(out / "findings")))
    print(
        f"fuzz: {engine}: {executions} executions in {elapsed:.0f} s, {failures} failures"
        + (f" (inputs and reasons in {out / 'findings'})" if failures else "")
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
