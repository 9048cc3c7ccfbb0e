"""The smallest Exif block that says one thing: the orientation."""

from __future__ import annotations

_ORIENTATION_TAG = 0x0112
_SHORT = 3


def orientation_tiff(orientation: int) -> bytes:
    """A big-endian TIFF header and an IFD0 with one entry, Orientation, and no next IFD."""
    entry = (
        _ORIENTATION_TAG.to_bytes(2, "big")
        + _SHORT.to_bytes(2, "big")
        + (1).to_bytes(4, "big")  # count
        + orientation.to_bytes(2, "big")
        + b"\0\0"  # a SHORT value is left-justified in the 4-byte value field
    )
    return b"MM\0*" + (8).to_bytes(4, "big") + (1).to_bytes(2, "big") + entry + bytes(4)
