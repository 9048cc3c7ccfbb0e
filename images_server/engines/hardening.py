"""Set both imaging libraries up for untrusted input, once per process, before first use.

ImageMagick reads its security policy when the library is first loaded, so the Wand engine
package loads it through `load_imagemagick`, with ours (`imagemagick/policy.xml`) on its
configure path, and `check_imagemagick_policy` proves it took effect (the Wand engine
refuses to start otherwise). libvips gets its operation cache off (every request is a new
image), one thread per operation (gunicorn runs one process per core), and every loader
blocked but those of the formats images-server accepts (the web five, and those the shared
decoders of `images_server.decoders` hand to libvips), so a file that slips past the
magic-byte check still cannot reach PDF, FITS or ImageMagick loaders.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pyvips

POLICY_DIR = Path(__file__).with_name("imagemagick")
ALLOWED_VIPS_LOADERS = (
    "VipsForeignLoadJpeg",
    "VipsForeignLoadPng",
    "VipsForeignLoadWebp",
    "VipsForeignLoadNsgif",
    "VipsForeignLoadHeif",
    "VipsForeignLoadTiff",  # called by decoders.tiff only: sniff routes every TIFF there
)
_CONFIGURE_PATH = "MAGICK_CONFIGURE_PATH"
_MVG = b"push graphic-context\nviewbox 0 0 1 1\npop graphic-context\n"


def load_imagemagick() -> None:
    """Load ImageMagick (through Wand) with our policy on its configure path.

    ImageMagick reads its policy files once, when first asked about a policy, so the path
    is set only for that moment: child processes (an operator's `convert`) do not inherit
    our policy, and the check inside proves it took.
    """
    if "wand.api" in sys.modules:
        return  # too late to add a policy; check_imagemagick_policy will say so
    previous = os.environ.get(_CONFIGURE_PATH)
    os.environ[_CONFIGURE_PATH] = os.pathsep.join(filter(None, (str(POLICY_DIR), previous)))
    try:
        # ImageMagick reads its policy files at its first policy question, not at load
        check_imagemagick_policy()
    finally:
        if previous is None:
            del os.environ[_CONFIGURE_PATH]
        else:
            os.environ[_CONFIGURE_PATH] = previous


def check_imagemagick_policy() -> None:
    """Raise RuntimeError unless ImageMagick refuses what our policy refuses (MVG here)."""
    from wand.exceptions import PolicyError
    from wand.image import Image

    try:
        with Image(blob=_MVG, format="mvg"):
            pass
    except PolicyError:
        return
    raise RuntimeError(
        "ImageMagick's security policy is not active: Wand was loaded before "
        "images_server.engines.wand could give it the policy"
    )


def harden_libvips() -> None:
    pyvips.cache_set_max(0)
    pyvips.concurrency_set(1)
    pyvips.block_untrusted_set(True)
    pyvips.operation_block_set("VipsForeignLoad", True)
    for loader in ALLOWED_VIPS_LOADERS:
        pyvips.operation_block_set(loader, False)
