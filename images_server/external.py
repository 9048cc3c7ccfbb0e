"""`/external`: render a remote image through the same spine as an uploaded one.

The fetched original is stored under the hash of its URL (namespace `external`, never
reachable through `/image`), so later requests for any pipeline of that URL skip the
download; `reset` drops it and its variants and downloads it again.
"""

from __future__ import annotations

from images_server.errors import ExternalDisabled, ImageNotFound
from images_server.hashing import external_ref
from images_server.ingest import admit
from images_server.observability.metrics import ORIGINALS_STORED
from images_server.observability.tracing import span
from images_server.pipeline.plan import Plan
from images_server.render import Rendered, render
from images_server.security.fetch import fetch
from images_server.services import Services


def render_external(
    services: Services, url: str, plan: Plan, reset: bool, client: str | None = None
) -> Rendered:
    if not services.settings.external_enabled:
        raise ExternalDisabled()
    ref = external_ref(url)
    if reset:
        services.storage.delete(ref)
        services.cache.purge(ref)
    else:
        try:
            return render(services, ref, plan, client)
        except ImageNotFound:
            client = None  # not fetched yet; this attempt already counted the render
    with span("fetch"):
        fetched = fetch(url, services.fetch_policy)
    with span("store", **{"images.hash": ref.hash}):
        admit(services, ref, fetched.body)
    ORIGINALS_STORED.labels("external").inc()  # reached only when not stored before
    return render(services, ref, plan, client)
