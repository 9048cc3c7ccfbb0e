"""Eager variants: after an upload, render the configured presets in the configured formats
through the render spine, so they land in the result cache before the first visitor asks.

`eager_plans` are exactly the plans a request would make: `?size=thumb` with `Accept:
image/avif` and `/preset/thumb/format/auto` settle on the same plan (and cache key) as
`preset/thumb` with format AVIF, and `source` is the plan of `?size=thumb` alone.
"""

from __future__ import annotations

from images_server import catalog, content
from images_server.formats import OUTPUT_FORMATS, SOURCE_FORMAT
from images_server.hashing import ImageRef
from images_server.pipeline.ops import OutputFormat
from images_server.pipeline.parse import parse_op
from images_server.pipeline.plan import Plan, make_plan
from images_server.render import render
from images_server.services import Services
from images_server.settings import Settings

_FORMATS: dict[str, OutputFormat | None] = {name: name for name in OUTPUT_FORMATS}
_FORMATS[SOURCE_FORMAT] = None  # each image's own


def eager_plans(settings: Settings) -> list[Plan]:
    """One plan per configured preset and format, in the order configured."""
    plans: list[Plan] = []
    for preset in settings.eager_presets:
        base = make_plan(tuple(parse_op("preset", preset, settings.presets)))
        for name in settings.eager_formats:
            plans.append(base.with_format(_FORMATS[name]))
    return plans


def warm_variants(services: Services, ref: ImageRef) -> int:
    """Render every eager variant of `ref` that is not cached yet; how many plans were run."""
    plans = eager_plans(services.settings)
    record = catalog.lookup(services, ref)
    for plan in plans:
        # a cached variant is a cache hit: nothing is redone
        render(services, ref, content.plan_for(services, record, plan))
    return len(plans)
