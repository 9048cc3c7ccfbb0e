"""The licence: LICENSE is the MIT licence setup.cfg declares, and it ships in the wheel."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

from tests.deploy.conftest import ROOT, site_packages

# The MIT licence's operative sentences, as opensource.org publishes them.
MIT_SENTENCES = (
    "Permission is hereby granted, free of charge, to any person obtaining a copy of this "
    'software and associated documentation files (the "Software"), to deal in the Software '
    "without restriction,",
    "The above copyright notice and this permission notice shall be included in all copies or "
    "substantial portions of the Software.",
    'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND,',
)


def setup_cfg() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    return config


def test_the_license_file_is_the_license_setup_cfg_declares() -> None:
    metadata = setup_cfg()["metadata"]
    assert metadata["license"] == "MIT"
    assert metadata["license_files"].strip() == "LICENSE"
    text = (ROOT / "LICENSE").read_text()
    assert text.splitlines()[0] == "MIT License"
    assert re.search(r"^Copyright \(c\) 2026 the images-server authors$", text, re.MULTILINE)
    flowing = " ".join(text.split())
    for sentence in MIT_SENTENCES:
        assert sentence in flowing


def test_the_wheel_carries_the_license(image_venv: Path) -> None:
    # the wheel the Dockerfile's builder stage makes, from the files it copies
    (dist_info,) = site_packages(image_venv).glob("images_server-*.dist-info")
    metadata = (dist_info / "METADATA").read_text()
    assert "License: MIT" in metadata.splitlines()
    assert "License-File: LICENSE" in metadata.splitlines()
    (shipped,) = dist_info.glob("**/LICENSE")  # licenses/LICENSE since PEP 639
    assert shipped.read_text() == (ROOT / "LICENSE").read_text()
    repository = "https://github.com/images-server/images-server"
    assert f"Project-URL: Source, {repository}" in metadata.splitlines()
