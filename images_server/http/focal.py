"""`PUT` and `DELETE /image/<hash>/focal`: the owner's focal point for the image.

The body is `{"x": 0.31, "y": 0.62}`, in 0..1 of the upright image (as `/metadata` gives its
size). Crops placed `focal`, and centred crops (`crop/WxH`) of an image with a point, keep it
inside and as central as the frame allows. Storing or clearing a point purges the image's
cached variants here and in the HTTP caches in front, since its centred crops change.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request

from images_server import content
from images_server.caches.purge import purge_everywhere
from images_server.errors import BadRequest, ServiceUnavailable
from images_server.hashing import parse_hash
from images_server.http import services
from images_server.http.caller import caller
from images_server.http.permissions import manageable
from images_server.pipeline.geometry import Point

log = logging.getLogger(__name__)

bp = Blueprint("focal", __name__)


def _point() -> Point:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict) or set(body) != {"x", "y"}:
        raise BadRequest('the body must be {"x": <0..1>, "y": <0..1>}')
    x, y = body["x"], body["y"]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (x, y)):
        raise BadRequest("'x' and 'y' must be numbers from 0 to 1")
    if not (0 <= x <= 1 and 0 <= y <= 1):
        raise BadRequest("'x' and 'y' must be numbers from 0 to 1")
    return round(float(x), 4), round(float(y), 4)


@bp.put("/image/<hash_>/focal")
def put_focal(hash_: str) -> Response:
    return _store(hash_, True)


@bp.delete("/image/<hash_>/focal")
def delete_focal(hash_: str) -> Response:
    return _store(hash_, False)


def _store(hash_: str, put: bool) -> Response:
    svc = services()
    ref = parse_hash(hash_)
    manageable(svc, ref, caller())
    point = _point() if put else None
    content.set_focal(svc, ref, point)
    try:
        purge_everywhere(svc.purgers, ref)
    except ServiceUnavailable as error:  # the point is stored; stale HTTP copies revalidate
        log.error("focal point of %s stored, but a cache could not be purged: %s", ref.hash, error)
    focal = None if point is None else {"x": point[0], "y": point[1]}
    return jsonify(status="success", focal=focal)
