"""libFuzzer (atheris) entry point for the upload target; `fuzz.run` starts it.

    python -m fuzz.atheris_upload FINDINGS_DIR DATA_DIR [libFuzzer flags] CORPUS_DIR

The images-server package is imported under atheris' instrumentation, so coverage of the
pure-Python sniffers and the admit path guides the mutations; libvips is native and only
runs. libFuzzer bounds the run (`-max_total_time`) and prints its final stats; findings are
written by the target itself, crashes and timeouts by libFuzzer (`-artifact_prefix`).
libFuzzer ends the process without Python's clean-up, so the caller removes DATA_DIR.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris  # type: ignore[import-untyped]  # no stubs are published

with atheris.instrument_imports(include=["images_server"]):
    from fuzz.target import UploadTarget


def main() -> None:
    findings, data_dir = Path(sys.argv[1]), Path(sys.argv[2])
    target = UploadTarget(findings, data_dir)
    atheris.Setup([sys.argv[0], *sys.argv[3:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
