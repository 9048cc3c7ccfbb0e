"""Who is asking: the `Caller` of the request being served, built once by `http.access`.

`user` is the user of the API key the request carried (None when none was needed and none
was sent), or of the upload token it carried; `signed` says the URL carried a valid signature
(which lets anyone read it, even a private image); `client` is the key the request's rate
limits count against, and the access log names (`clients.client_id`: an address, or an IPv6
/64); `upload_grant` is what the request's upload token allows (`http.upload_tokens`: one
upload, its size and visibility), None without one. Views read it with `caller()`
and pass it on: permission checks and the packs service take it as an argument.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g

from images_server.db.upload_tokens import TokenGrant


@dataclass(frozen=True)
class Caller:
    user: str | None
    signed: bool
    client: str
    upload_grant: TokenGrant | None = None


def caller() -> Caller:
    """The caller of the request being served (set by `access` before any view runs)."""
    found = g.get("caller")
    if not isinstance(found, Caller):
        raise RuntimeError("no caller: the app's access checks did not run (see app.py)")
    return found
