"""Who is asking: the `Caller` of the request being served, built once by `http.access`.

`user` is the user of the API key the request carried (None when none was needed and none
was sent); `signed` says the URL carried a valid signature (which lets anyone read it, even a
private image); `client` is the key the request's rate limits count against, and the access
log names (`clients.client_id`: an address, or an IPv6 /64). Views read it with `caller()`
and pass it on: permission checks and the packs service take it as an argument.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g


@dataclass(frozen=True)
class Caller:
    user: str | None
    signed: bool
    client: str


def caller() -> Caller:
    """The caller of the request being served (set by `access` before any view runs)."""
    found = g.get("caller")
    if not isinstance(found, Caller):
        raise RuntimeError("no caller: the app's access checks did not run (see app.py)")
    return found
