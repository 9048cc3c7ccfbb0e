"""JPEG XL: the size, orientation, alpha and animation from the codestream's first fields.

A JPEG XL file is either a bare codestream (`FF 0A`) or an ISOBMFF container whose
codestream is one `jxlc` box or is split over `jxlp` boxes (each starting with a 4-byte
index). The codestream opens with a `SizeHeader` and an `ImageMetadata` bundle, read here
bit by bit (least significant bit first): the stored size, the orientation (1 to 8, as in
EXIF: 5 to 8 transpose it), whether there is an animation, and the extra channels (one of
them may be alpha). Only those first fields are read, from at most `MAX_HEADER_BYTES` of
codestream, and a container walk has the box budget of `boxes`.

The decoder applies the orientation itself, so `SourceInfo.orientation` is 1 and the size
is the displayed one. An animation's frames are not counted (that takes every frame
header): it reads as 2 frames, which is all the server needs to know (only the first frame
is decoded). JPEG XL originals are always served re-encoded, so there is nothing to strip.
"""

from __future__ import annotations

from images_server.errors import UndecodableImage
from images_server.formats.boxes import Boxes
from images_server.formats.header import SourceInfo, displayed, require_size

CODESTREAM = b"\xff\x0a"
CONTAINER = b"\x00\x00\x00\x0cJXL \r\n\x87\n"
MAX_HEADER_BYTES = 64 * 1024  # the fields read here take a few dozen bytes in real files
MAX_EXTRA_CHANNELS = 256

_RATIOS = {1: (1, 1), 2: (12, 10), 3: (4, 3), 4: (3, 2), 5: (16, 9), 6: (5, 4), 7: (2, 1)}
_ALPHA, _SPOT_COLOUR, _CFA = 0, 2, 5

# U32 distributions: (kind, value, bits), "val" a constant, "bits" n bits plus an offset.
_U32 = tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int]]
_SIDE: _U32 = ((0, 9), (0, 13), (0, 18), (0, 30))  # (offset, bits)
_ENUM: _U32 = ((0, 0), (1, 0), (2, 4), (18, 6))
_EXTRA_COUNT: _U32 = ((0, 0), (1, 0), (2, 4), (1, 12))
_BITS_INT: _U32 = ((8, 0), (10, 0), (12, 0), (1, 6))
_BITS_FLOAT: _U32 = ((32, 0), (16, 0), (24, 0), (1, 6))
_DIM_SHIFT: _U32 = ((0, 0), (3, 0), (4, 0), (1, 3))
_NAME_LENGTH: _U32 = ((0, 0), (0, 4), (16, 5), (48, 10))
_CFA_CHANNEL: _U32 = ((1, 0), (0, 2), (3, 4), (19, 8))
_PREVIEW_DIV8: _U32 = ((16, 0), (32, 0), (1, 5), (33, 9))
_PREVIEW_SIDE: _U32 = ((1, 6), (65, 8), (321, 10), (1345, 12))
_TPS_NUMERATOR: _U32 = ((100, 0), (1000, 0), (1, 10), (1, 30))
_TPS_DENOMINATOR: _U32 = ((1, 0), (1001, 0), (1, 8), (1, 10))
_LOOPS: _U32 = ((0, 0), (0, 3), (0, 16), (0, 32))


def matches(head: bytes) -> bool:
    return head.startswith(CODESTREAM) or head.startswith(CONTAINER)


class _Bits:
    """A little-endian bit reader over `data`, refusing to read past its end."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0  # in bits

    def read(self, count: int) -> int:
        value = 0
        for index in range(count):
            byte, bit = divmod(self.position, 8)
            if byte >= len(self.data):
                raise UndecodableImage("JPEG XL header is cut off")
            value |= ((self.data[byte] >> bit) & 1) << index
            self.position += 1
        return value

    def flag(self) -> bool:
        return self.read(1) == 1

    def u32(self, distribution: _U32) -> int:
        offset, bits = distribution[self.read(2)]
        return offset + (self.read(bits) if bits else 0)


def _size(bits: _Bits) -> tuple[int, int]:
    """`SizeHeader`: the stored width and height."""
    small = bits.flag()
    height = (bits.read(5) + 1) * 8 if small else bits.u32(_SIDE) + 1
    ratio = bits.read(3)
    if ratio:
        numerator, denominator = _RATIOS[ratio]
        return height * numerator // denominator, height
    width = (bits.read(5) + 1) * 8 if small else bits.u32(_SIDE) + 1
    return width, height


def _skip_preview(bits: _Bits) -> None:
    distribution = _PREVIEW_DIV8 if bits.flag() else _PREVIEW_SIDE
    bits.u32(distribution)
    if bits.read(3) == 0:
        bits.u32(distribution)


def _skip_animation(bits: _Bits) -> None:
    bits.u32(_TPS_NUMERATOR)
    bits.u32(_TPS_DENOMINATOR)
    bits.u32(_LOOPS)
    bits.flag()  # have_timecodes


def _skip_bit_depth(bits: _Bits) -> None:
    if bits.flag():  # floating point samples
        bits.u32(_BITS_FLOAT)
        bits.read(4)  # exponent bits
    else:
        bits.u32(_BITS_INT)


def _is_alpha(bits: _Bits) -> bool:
    """One `ExtraChannelInfo`, read to its end: whether it is an alpha channel."""
    if bits.flag():  # all default: an 8-bit alpha
        return True
    kind = bits.u32(_ENUM)
    _skip_bit_depth(bits)
    bits.u32(_DIM_SHIFT)
    bits.read(8 * bits.u32(_NAME_LENGTH))
    if kind == _ALPHA:
        bits.flag()  # premultiplied
    elif kind == _SPOT_COLOUR:
        bits.read(4 * 16)  # red, green, blue, solidity as 16-bit floats
    elif kind == _CFA:
        bits.u32(_CFA_CHANNEL)
    return kind == _ALPHA


def parse_codestream(head: bytes) -> SourceInfo:
    """What the first fields of a codestream (starting with `FF 0A`) say."""
    if not head.startswith(CODESTREAM):
        raise UndecodableImage("JPEG XL codestream does not start with FF 0A")
    bits = _Bits(head[2:MAX_HEADER_BYTES])
    width, height = _size(bits)
    orientation, animated, alpha = 1, False, False
    if not bits.flag():  # ImageMetadata is not all default
        if bits.flag():  # extra fields
            orientation = bits.read(3) + 1
            if bits.flag():  # an intrinsic size, which the decoder does not apply
                _size(bits)
            if bits.flag():
                _skip_preview(bits)
            animated = bits.flag()
            if animated:
                _skip_animation(bits)
        _skip_bit_depth(bits)
        bits.flag()  # modular_16bit_buffers
        channels = bits.u32(_EXTRA_COUNT)
        if channels > MAX_EXTRA_CHANNELS:
            raise UndecodableImage(f"JPEG XL header declares {channels} extra channels")
        for _ in range(channels):
            alpha = _is_alpha(bits) or alpha
    require_size(width, height, "JPEG XL header")
    shown_width, shown_height = displayed(width, height, orientation)
    return SourceInfo(
        "jxl", shown_width, shown_height, frames=2 if animated else 1, has_alpha=alpha
    )


def codestream_head(data: bytes) -> bytes:
    """The first `MAX_HEADER_BYTES` of the codestream: `data` itself, or gathered from the
    container's `jxlc` box or its `jxlp` boxes in order."""
    if data.startswith(CODESTREAM):
        return data[:MAX_HEADER_BYTES]
    boxes = Boxes(data, "JPEG XL")
    parts: list[bytes] = []
    gathered = 0
    try:
        for box in boxes.children(0, len(data), top_level=True):
            if box.kind == b"jxlc":
                return boxes.payload(box)[:MAX_HEADER_BYTES]
            if box.kind == b"jxlp":
                part = boxes.payload(box)[4:]  # after the part's index
                parts.append(part[: MAX_HEADER_BYTES - gathered])
                gathered += len(parts[-1])
                if gathered >= MAX_HEADER_BYTES:
                    break
    except UndecodableImage as exc:  # the walker names AVIF, whose boxes it was written for
        raise UndecodableImage("JPEG XL container is cut off or corrupt") from exc
    if not parts:
        raise UndecodableImage("JPEG XL container holds no codestream (jxlc or jxlp box)")
    return b"".join(parts)


def parse(data: bytes) -> SourceInfo:
    return parse_codestream(codestream_head(data))
