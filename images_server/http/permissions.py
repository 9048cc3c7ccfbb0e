"""Who may read and who may manage an image (docs/api.md §5), for a request's `Caller`.

Reading a public image needs nothing. A private one (its original, every variant and its
`/metadata`) needs one of: a valid signature on this very URL (checked before the view by
`access`: the caller is `signed`), the owner's key, an admin's key, or the key of a user it was
shared with (or who uploaded the same bytes). Managing (delete, sign, share, purge) is open
while the server has no API keys, like every write; with keys it needs the owner's key or an
admin's. Images with no owner (uploaded while writes were open) are then managed by admins.
"""

from __future__ import annotations

from images_server import catalog
from images_server.catalog import ImageRecord
from images_server.errors import ImageNotFound, InvalidPipeline, NotOwner, PrivateImage
from images_server.hashing import ImageRef, parse_hash
from images_server.http.caller import Caller
from images_server.pipeline.plan import Plan
from images_server.render_overlays import overlay_hashes
from images_server.services import Services


def _is_admin(svc: Services, user: str | None) -> bool:
    return user is not None and user in svc.settings.admin_users


def readable(svc: Services, ref: ImageRef, caller: Caller) -> ImageRecord | None:
    """The image's record (None: no row, so public) if `caller` may read it."""
    return check_readable(svc, ref, catalog.lookup(svc, ref), caller)


def check_readable(
    svc: Services, ref: ImageRef, record: ImageRecord | None, caller: Caller
) -> ImageRecord | None:
    """`record` if `caller` may read the image it describes (see `readable`)."""
    if record is None and svc.database is not None:
        raise ImageNotFound()  # bytes without a row (a crash mid-upload): not an image yet
    if record is None or record.public or caller.signed:
        return record
    user = caller.user
    if user is not None and (
        user == record.owner or _is_admin(svc, user) or catalog.may_read(svc, ref, user)
    ):
        return record
    raise PrivateImage()


def overlays_readable(svc: Services, plan: Plan, caller: Caller) -> bool:
    """Check that `caller` may read every image `plan`'s `overlay` ops name (as it may the
    image itself: a private overlay needs the same rights); whether all are public."""
    public = True
    for image in overlay_hashes(plan):
        try:
            record = readable(svc, parse_hash(image), caller)
        except ImageNotFound:
            raise InvalidPipeline(f"'overlay/{image}': no stored image has this hash") from None
        public = public and (record is None or record.public)
    return public


def manageable(svc: Services, ref: ImageRef, caller: Caller) -> ImageRecord | None:
    """The image's record if `caller` may delete, sign, share or purge it.

    404 when the image is neither recorded nor stored; 403 for a user who does not own it.
    """
    record = catalog.lookup(svc, ref)
    if record is None and not svc.storage.exists(ref):
        raise ImageNotFound()
    user = caller.user
    if user is None:  # a write got past `access` without a user only while writes are open
        return record
    owner = record.owner if record is not None else None
    if _is_admin(svc, user) or (owner is not None and user == owner):
        return record
    raise NotOwner()
