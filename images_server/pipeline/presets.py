"""Named presets: a name that expands to a pipeline (`preset/thumb`, `?size=thumb`).

Defaults follow docs/api.md §3; operators add or override names with `IMAGES_PRESETS` (JSON).
`medium` never enlarges: a preset meant for page bodies should not upscale a small source.
"""

from __future__ import annotations

import re

DEFAULT_PRESETS: dict[str, str] = {
    "thumb": "resize/200x200^/crop/200x200",  # exactly 200x200: fill, then centre crop
    "medium": "resize/800x800>",  # fit inside 800x800
    "full": "",  # the original size
}

PRESET_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
PRESET_MAX_OPS = 30  # a preset counts as one op of a request; its own length is bounded here
