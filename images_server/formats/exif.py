"""The orientation tag of an Exif (TIFF-structured) block: read from one (the sniffers), and
written as the smallest block that says nothing else (the strippers keep only it)."""

from __future__ import annotations

from typing import Literal

_ORIENTATION_TAG = 0x0112
_SHORT = 3
_ENTRY_SIZE = 12


def exif_orientation(tiff: bytes) -> int:
    """IFD0 Orientation (1..8) of a TIFF header and its IFDs; 1 if absent or unreadable.

    Broken Exif never makes the image undecodable: decoders ignore it too.
    """
    if tiff.startswith(b"Exif\x00"):
        tiff = tiff[6:]
    order: Literal["little", "big"]
    if tiff[:4] == b"II*\x00":
        order = "little"
    elif tiff[:4] == b"MM\x00*":
        order = "big"
    else:
        return 1
    ifd = int.from_bytes(tiff[4:8], order)
    if ifd < 8 or ifd + 2 > len(tiff):
        return 1
    first = ifd + 2
    count = min(int.from_bytes(tiff[ifd:first], order), (len(tiff) - first) // _ENTRY_SIZE)
    for entry in range(first, first + count * _ENTRY_SIZE, _ENTRY_SIZE):
        if int.from_bytes(tiff[entry : entry + 2], order) != _ORIENTATION_TAG:
            continue
        if int.from_bytes(tiff[entry + 2 : entry + 4], order) != _SHORT:
            return 1
        value = int.from_bytes(tiff[entry + 8 : entry + 10], order)
        return value if 1 <= value <= 8 else 1
    return 1


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
