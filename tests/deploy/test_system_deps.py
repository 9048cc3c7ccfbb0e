"""`scripts/install-system-deps.sh`: `make run` installs only what serving needs, `make test`
the whole toolchain, and no installed package is left running its system service.

The guard is run for real with stand-ins for `dpkg-query` (every package missing) and
`apt-get` (which, like a package's maintainer script, asks `policy-rc.d` whether it may start
its service), so the test installs nothing and starts nothing on the machine.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "install-system-deps.sh"
TEST_ONLY = {
    "imagemagick",
    "redis-server",
    "postgresql",
    "nginx",
    "wrk",
    "strace",
    "chromium",
    "nodejs",
}


def _packages(*mode: str) -> set[str]:
    listed = subprocess.run(
        ["bash", str(SCRIPT), *mode, "--list"], capture_output=True, text=True, check=True
    )
    return set(listed.stdout.split())


def test_serving_needs_no_test_toolchain() -> None:
    serve = _packages("--serve")
    assert serve & TEST_ONLY == set()
    assert "python3-venv" in serve
    assert _packages("--runtime") < serve
    assert _packages() >= TEST_ONLY


def test_make_run_installs_the_serving_set_and_make_test_the_whole() -> None:
    run = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True)
    test = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True)
    assert "install-system-deps.sh --serve" in run.stdout
    assert "install-system-deps.sh\n" in test.stdout


def _fake_tools(bin_dir: Path, record: Path, policy: Path) -> None:
    bin_dir.mkdir()
    tools = {
        "dpkg-query": "exit 1\n",  # nothing is installed
        "apt-get": (
            'if [ "$1" = install ]; then\n'
            f'  "{policy}" nginx start; echo "nginx start: $?" >> "{record}"\n'
            "fi\n"
        ),
    }
    for name, body in tools.items():
        tool = bin_dir / name
        tool.write_text(f"#!/bin/sh\n{body}")
        tool.chmod(0o755)


def test_no_service_starts_while_packages_install(tmp_path: Path) -> None:
    record, policy = tmp_path / "record", tmp_path / "policy-rc.d"
    _fake_tools(tmp_path / "bin", record, policy)
    env = os.environ | {"PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}"}
    env |= {"POLICY_RC_D": str(policy)}
    done = subprocess.run(
        ["bash", str(SCRIPT), "--serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert record.read_text() == "nginx start: 101\n"  # 101: the action is forbidden
    assert not policy.exists()  # and the machine's own policy is back as it was


def test_a_policy_already_in_place_is_left_alone(tmp_path: Path) -> None:
    record, policy = tmp_path / "record", tmp_path / "policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 0\n")  # this machine's owner allows every start
    policy.chmod(0o755)
    _fake_tools(tmp_path / "bin", record, policy)
    env = os.environ | {"PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}"}
    env |= {"POLICY_RC_D": str(policy)}
    done = subprocess.run(["bash", str(SCRIPT), "--serve"], env=env, capture_output=True)
    assert done.returncode == 0
    assert policy.read_text() == "#!/bin/sh\nexit 0\n"
