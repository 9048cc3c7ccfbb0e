"""The one error tree of images-server.

Errors are raised deep (parser, engines, storages, fetcher) and rendered once, as the JSON of
docs/api.md §2, by `images_server.http.errors`. Each class carries its HTTP status and a stable
snake_case `code` that clients may match on; the message is for humans. Each backend maps its
library's errors at its boundary: the metadata database's engine (`db.engine.make_engine`)
raises `DatabaseUnavailable` for a database that cannot be reached or used, so neither the
HTTP edge nor the command line catches SQLAlchemy's errors.

    ImagesError (500 internal_error)
    ├── BadRequest (400 bad_request)
    │   ├── InvalidPipeline (400 invalid_pipeline)      names the offending segment
    │   ├── OutputTooLarge (400 output_too_large)
    │   └── OverByteBudget (400 over_byte_budget)       maxbytes: even quality 1 is larger
    ├── Unauthorized (401 unauthorized)                missing or wrong API key
    │   └── InvalidUploadToken (401 invalid_upload_token)   unknown, or not for this request
    │       ├── UploadTokenUsed (401 upload_token_used)     single use: spent already
    │       └── UploadTokenExpired (401 upload_token_expired)
    ├── Forbidden (403 forbidden)
    │   ├── InvalidSignature (403 invalid_signature)    missing, bad or malformed
    │   ├── ExpiredSignature (403 expired_signature)
    │   ├── UploadDisabled (403 upload_disabled)
    │   ├── ExternalDisabled (403 external_disabled)
    │   ├── ForbiddenAddress (403 forbidden_address)    SSRF guard
    │   ├── PrivateImage (403 private_image)            no signature, ownership or grant
    │   ├── UnsignedNotAllowed (403 unsigned_not_allowed)  outside the unsigned allow-lists
    │   ├── FacesUnavailable (403 faces_unavailable)    redaction asked, faces never detected
    │   └── NotOwner (403 not_owner)                    a write on someone else's image
    ├── NotFound (404 not_found)
    │   ├── ImageNotFound (404 file_not_found)
    │   └── PackNotFound (404 pack_not_found)           also someone else's pack
    ├── RequestTimeout (408 request_timeout)         the client sent too slowly
    ├── PackNotReady (409 pack_not_ready)
    ├── PackFinished (409 pack_finished)                cancelling a done or failed pack
    ├── PackExpired (410 pack_expired)
    ├── PayloadTooLarge (413 payload_too_large)
    │   ├── UploadTooLarge (413 upload_too_large)
    │   ├── TooManyPixels (413 too_many_pixels)
    │   └── QuotaExceeded (413 quota_exceeded)          the user's stored bytes or images
    ├── UriTooLong (414 uri_too_long)                 request line over gunicorn's limit
    ├── UnsupportedFormat (415 unsupported_format)
    ├── UndecodableImage (422 undecodable_image)
    ├── RateLimited (429 rate_limited)                 carries `retry_after` seconds
    ├── HeadersTooLarge (431 headers_too_large)       too many or too long header fields
    ├── UpstreamError (502 upstream_error)
    ├── ServiceUnavailable (503 service_unavailable)
    │   ├── RenderTimeout (503 render_timeout)         carries `retry_after` seconds
    │   ├── Overloaded (503 overloaded)                 no render slot in time; `retry_after`
    │   ├── FacesPending (503 faces_pending)            redaction asked before detection ran
    │   ├── DatabaseUnavailable (503 database_unavailable)  carries the `reason`; raised by db
    │   └── NotReady (503 not_ready)                    `/readyz`: a backing service is down
    └── UpstreamTimeout (504 upstream_timeout)
"""

from __future__ import annotations

from typing import ClassVar


class ImagesError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    default_message: ClassVar[str] = "internal error"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class BadRequest(ImagesError):
    status = 400
    code = "bad_request"
    default_message = "bad request"


class InvalidPipeline(BadRequest):
    code = "invalid_pipeline"
    default_message = "invalid pipeline"


class OutputTooLarge(BadRequest):
    code = "output_too_large"
    default_message = "the requested output is larger than the output limit"


class OverByteBudget(BadRequest):
    code = "over_byte_budget"
    default_message = "the output does not fit the byte budget (maxbytes) even at quality 1"


class Unauthorized(ImagesError):
    status = 401
    code = "unauthorized"
    default_message = "this request needs an API key (Authorization: Bearer <key>)"


class InvalidUploadToken(Unauthorized):
    code = "invalid_upload_token"
    default_message = "the upload token is not valid"


class UploadTokenUsed(InvalidUploadToken):
    code = "upload_token_used"
    default_message = "the upload token was already used: each one is good for one upload"


class UploadTokenExpired(InvalidUploadToken):
    code = "upload_token_expired"
    default_message = "the upload token has expired"


class Forbidden(ImagesError):
    status = 403
    code = "forbidden"
    default_message = "forbidden"


class InvalidSignature(Forbidden):
    code = "invalid_signature"
    default_message = "bad signature"


class ExpiredSignature(Forbidden):
    code = "expired_signature"
    default_message = "expired signature"


class UploadDisabled(Forbidden):
    code = "upload_disabled"
    default_message = "uploads are disabled on this server"


class ExternalDisabled(Forbidden):
    code = "external_disabled"
    default_message = "external images are disabled on this server"


class ForbiddenAddress(Forbidden):
    code = "forbidden_address"
    default_message = "that address may not be fetched"


class UnsignedNotAllowed(Forbidden):
    code = "unsigned_not_allowed"
    default_message = "this URL needs a signature"


class PrivateImage(Forbidden):
    code = "private_image"
    default_message = "this image is private: it needs a signed URL, the owner's API key or a share"


class FacesUnavailable(Forbidden):
    code = "faces_unavailable"
    default_message = (
        "faces are not detected for this image (an /external image, no metadata database, or "
        "IMAGES_FACES=false), so it cannot be served with its faces redacted"
    )


class NotOwner(Forbidden):
    code = "not_owner"
    default_message = "only the image's owner (or an admin) may do this"


class NotFound(ImagesError):
    status = 404
    code = "not_found"
    default_message = "not found"


class ImageNotFound(NotFound):
    code = "file_not_found"
    default_message = "file not found"


class PackNotFound(NotFound):
    code = "pack_not_found"
    default_message = "pack not found"


class PackNotReady(ImagesError):
    status = 409
    code = "pack_not_ready"
    default_message = "the pack is not done yet"


class PackFinished(ImagesError):
    status = 409
    code = "pack_finished"
    default_message = "the pack has already ended: there is nothing to cancel"


class PackExpired(ImagesError):
    status = 410
    code = "pack_expired"
    default_message = "the pack has expired and its files were deleted"


class PayloadTooLarge(ImagesError):
    status = 413
    code = "payload_too_large"
    default_message = "payload too large"


class UploadTooLarge(PayloadTooLarge):
    code = "upload_too_large"
    default_message = "the upload is larger than the upload limit"


class TooManyPixels(PayloadTooLarge):
    code = "too_many_pixels"
    default_message = "the image has more pixels than the pixel limit"


class QuotaExceeded(PayloadTooLarge):
    code = "quota_exceeded"
    default_message = "this upload would exceed your storage quota"


class RequestTimeout(ImagesError):
    status = 408
    code = "request_timeout"
    default_message = "the request did not arrive in time: the client sent it too slowly"


class UriTooLong(ImagesError):
    status = 414
    code = "uri_too_long"
    default_message = "the request line is longer than the server accepts"


class UnsupportedFormat(ImagesError):
    status = 415
    code = "unsupported_format"
    default_message = (
        "not a supported image format (JPEG, PNG, WebP, GIF, AVIF, HEIC, TIFF, JPEG XL; "
        "SVG where enabled)"
    )


class UndecodableImage(ImagesError):
    status = 422
    code = "undecodable_image"
    default_message = "the image cannot be decoded completely (truncated or corrupt)"


class RateLimited(ImagesError):
    status = 429
    code = "rate_limited"
    default_message = "too many requests"

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        self.retry_after = retry_after  # whole seconds, for the Retry-After header
        super().__init__(message)


class HeadersTooLarge(ImagesError):
    status = 431
    code = "headers_too_large"
    default_message = "the request has more or longer header fields than the server accepts"


class UpstreamError(ImagesError):
    status = 502
    code = "upstream_error"
    default_message = "the external source failed"


class ServiceUnavailable(ImagesError):
    status = 503
    code = "service_unavailable"
    default_message = "a backing service is unavailable"


class RenderTimeout(ServiceUnavailable):
    code = "render_timeout"
    default_message = "the render took longer than the render time limit and was stopped"

    def __init__(self, message: str | None = None, retry_after: int = 1) -> None:
        self.retry_after = retry_after  # whole seconds, for the Retry-After header
        super().__init__(message)


class Overloaded(ServiceUnavailable):
    code = "overloaded"
    default_message = "the server is busy rendering; retry shortly"

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        self.retry_after = retry_after  # whole seconds, for the Retry-After header
        super().__init__(message)


class FacesPending(ServiceUnavailable):
    code = "faces_pending"
    default_message = (
        "the faces of this image are not detected yet (the job worker looks after upload), "
        "and it is never served with its faces unredacted; retry shortly"
    )

    def __init__(self, message: str | None = None, retry_after: int = 10) -> None:
        self.retry_after = retry_after  # whole seconds, for the Retry-After header
        super().__init__(message)


class UpstreamTimeout(ImagesError):
    status = 504
    code = "upstream_timeout"
    default_message = "the external source timed out"


class DatabaseUnavailable(ServiceUnavailable):
    code = "database_unavailable"
    default_message = "the metadata database is unavailable"

    def __init__(self, reason: str) -> None:
        self.reason = reason  # a few words: never the host, the URL or the password
        super().__init__(f"metadata database unavailable: {reason}")


class NotReady(ServiceUnavailable):
    code = "not_ready"
    default_message = "a backing service is unavailable"
