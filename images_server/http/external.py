"""`GET /external?url=&operations=&reset_cache=1`: a remote image through the spine."""

from __future__ import annotations

from flask import Blueprint, Response, request

from images_server import content
from images_server.errors import BadRequest, ExternalDisabled
from images_server.external import render_external
from images_server.http import services
from images_server.http.caller import caller
from images_server.http.permissions import overlays_readable
from images_server.http.plans import plan_request
from images_server.http.responses import image_response

bp = Blueprint("external", __name__)

_TRUE = ("1", "true", "yes")


@bp.get("/external")
def external() -> Response:
    svc = services()
    if not svc.settings.external_enabled:
        raise ExternalDisabled()
    who = caller()
    client = who.client
    svc.limiter.check("external", client)
    url = request.args.get("url", "")
    if not url:
        raise BadRequest("the 'url' query parameter is required")
    operations = request.args.get("operations", "").strip("/")
    planned = plan_request(request, svc.settings, operations)
    public = overlays_readable(svc, planned.plan, who)
    plan = content.plan_for(svc, None, planned.plan)  # faces redacted: 403, never detected
    reset = request.args.get("reset_cache", "").lower() in _TRUE
    rendered = render_external(svc, url, plan, reset, client)
    return image_response(
        rendered, vary_accept=planned.negotiated, public=public, vary=planned.vary
    )
