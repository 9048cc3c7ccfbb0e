"""Reading an uploaded image from a request: multipart field `file` or a raw body, capped.

The cap is the server's upload limit, or the upload token's when the request carries one
(the caller's `upload_grant`, from `upload_tokens.authorize`) and it is lower.
"""

from __future__ import annotations

from flask import request

from images_server.db.upload_tokens import TokenGrant
from images_server.errors import BadRequest, UploadTooLarge

MULTIPART_SLACK = 64 * 1024
"""Room for the multipart envelope around a file of exactly the upload limit."""


def read_upload(max_bytes: int, grant: TokenGrant | None) -> tuple[bytes, str | None]:
    """The uploaded bytes (multipart field `file`, or the raw body; never more than the
    limit, or `grant`'s when lower) and the file name multipart gave, if any."""
    whose = "the limit"
    if grant is not None and grant.max_bytes < max_bytes:
        max_bytes, whose = grant.max_bytes, "the upload token's limit"
    filename: str | None = None
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise BadRequest("send the image in the multipart form field 'file'")
        filename = upload.filename or None
        data = upload.stream.read(max_bytes + 1)
        upload.close()  # a large part is spooled to a temporary file
    elif request.mimetype == "application/x-www-form-urlencoded":
        raise BadRequest("send the image as multipart field 'file' or as a raw image/* body")
    else:
        data = request.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UploadTooLarge(f"the upload is larger than {whose} of {max_bytes} bytes")
    if not data:
        raise BadRequest("the upload is empty")
    return data, filename
