"""The hostile corpus: every input here is built at test time, in memory, small and the same
on every run, and carries the answer the server owes it (docs/api.md §2, §6).

Bombs declare huge sizes in every supported format (most with hardly any data; one PNG is a
real 400 MB stream of zeros in 400 KB of deflate, built without compressing it), limit
violators sit on each side of the pixel, side, frame and animation-pixel limits, truncated
and corrupt files cut each format, wrong magic and ImageTragick payloads (MVG, SVG, MSL,
`ephemeral:`, `@file`, PostScript, PDF) must never reach a decoder, polyglots are valid
images that are also HTML, JavaScript or ZIP, and metadata bombs (looping EXIF, a huge
iCCP or zTXt) hide in otherwise valid files. The expectations assume the default limits of
`Settings` and are used by the upload, `/external` and fuzz seeds alike.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import pyvips

from images_server.formats import INPUT_FORMATS, MEDIA_TYPES, served_format
from tests.images import animation, encode, quadrant_bytes, quadrant_image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Expected answers: the status, and the error code where it is fixed (None: any 413 code,
# for the limits whose codes are not pinned by docs/api.md).
ACCEPTED = 201
TOO_MANY_PIXELS = (413, "too_many_pixels")
TOO_LARGE = (413, None)
UNSUPPORTED = (415, "unsupported_format")
UNDECODABLE = (422, "undecodable_image")


@dataclass(frozen=True)
class Hostile:
    """One hostile input, what it is sent as, and what the server must answer."""

    name: str
    data: bytes
    status: int  # on POST /upload
    code: str | None = None  # the error code, when fixed
    format: str | None = None  # the format of an accepted image
    filename: str = "image.jpg"  # the name and type sent with it, usually lies
    mime: str = "image/jpeg"
    note: str = ""
    external: tuple[int, str | None] | None = None  # /external's answer, where it differs

    @property
    def accepted(self) -> bool:
        return self.status == ACCEPTED

    @property
    def served_types(self) -> set[str]:
        """The media types an accepted image and its variants are served as: its own for a
        web format, else JPEG or PNG (`formats.served_format`)."""
        assert self.format in INPUT_FORMATS, self.format
        return {MEDIA_TYPES[served_format(self.format, alpha)] for alpha in (False, True)}

    @property
    def external_answer(self) -> tuple[int, str | None]:
        """What `/external` owes this body: 200 for an accepted image, else as upload."""
        if self.external is not None:
            return self.external
        return (200, None) if self.accepted else (self.status, self.code)


def _item(
    name: str,
    data: bytes,
    expect: tuple[int, str | None],
    note: str,
    filename: str = "image.jpg",
    mime: str = "image/jpeg",
) -> Hostile:
    status, code = expect
    return Hostile(name, data, status, code, None, filename, mime, note)


def _valid(
    name: str, data: bytes, fmt: str, note: str, filename: str = "", mime: str = ""
) -> Hostile:
    return Hostile(
        name, data, ACCEPTED, None, fmt, filename or f"image.{fmt}", mime or f"image/{fmt}", note
    )


# --- PNG -----------------------------------------------------------------------------------


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(
    width: int,
    height: int,
    idat: bytes | None = None,
    *,
    colour: int = 0,
    depth: int = 8,
    before_idat: Iterable[bytes] = (),
) -> bytes:
    """A PNG with a hand-written IHDR; `idat` is the zlib stream (default: a few zeros)."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    data = idat if idat is not None else zlib.compress(bytes(64))
    return (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", ihdr)
        + b"".join(before_idat)
        + png_chunk(b"IDAT", data)
        + png_chunk(b"IEND", b"")
    )


_ZERO_UNIT = 1 << 20


@cache
def _zero_unit() -> bytes:
    """Raw deflate of 1 MiB of zeros, byte-aligned and not final, so copies concatenate."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    return deflate.compress(bytes(_ZERO_UNIT)) + deflate.flush(zlib.Z_FULL_FLUSH)


def zeros_zlib(total: int, prefix: bytes = b"") -> bytes:
    """A zlib stream that inflates to `prefix` then `total` zero bytes, without compressing them.

    Whole MiB units are copies of one deflate block run. Zeros leave Adler-32's running sum
    `a` as it is and add it to `b` once per byte, so the checksum needs no pass over them.
    """
    units, rest = divmod(total, _ZERO_UNIT)
    head = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = head.compress(prefix) + head.flush(zlib.Z_FULL_FLUSH) if prefix else b""
    last = zlib.compressobj(9, zlib.DEFLATED, -15)
    tail = last.compress(bytes(rest)) + last.flush()
    checksum = zlib.adler32(prefix)
    a, b = checksum & 0xFFFF, checksum >> 16
    adler = ((b + total * a) % 65521) << 16 | a
    return b"\x78\xda" + start + _zero_unit() * units + tail + struct.pack(">I", adler)


def icc_header(size: int) -> bytes:
    """A 128-byte ICC header declaring `size` bytes, and an empty tag table."""
    header = struct.pack(">I4sI4s4s4s", size, b"lcms", 0x02100000, b"mntr", b"RGB ", b"XYZ ")
    header += bytes(12) + b"acsp" + bytes(128 - 40)
    return header + struct.pack(">I", 0)


def png_zeros(width: int, height: int) -> bytes:
    """A complete, valid 8-bit grey PNG of zeros: each row is a filter byte and `width` zeros."""
    return png(width, height, zeros_zlib(height * (width + 1)))


# --- GIF -----------------------------------------------------------------------------------

_GIF_PIXEL = b"\x02\x02\x44\x01\x00"  # LZW minimum code size 2, one pixel of index 0, end
_GIF_PALETTE = b"\x00\x00\x00\xff\xff\xff"


def gif_frame(
    width: int = 1, height: int = 1, left: int = 0, top: int = 0, data: bytes = _GIF_PIXEL
) -> bytes:
    """A graphic control extension and an image descriptor, by default with one pixel of data."""
    control = b"\x21\xf9\x04\x00\x0a\x00\x00\x00"
    descriptor = b"\x2c" + struct.pack("<HHHH", left, top, width, height) + b"\x00"
    return control + descriptor + data


def gif(
    width: int, height: int, frames: Iterable[bytes], *, extensions: bytes = b"", end: bytes = b";"
) -> bytes:
    """GIF89a with a two-colour global palette; `frames` as made by `gif_frame`."""
    screen = b"GIF89a" + struct.pack("<HH", width, height) + b"\x80\x00\x00" + _GIF_PALETTE
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    return screen + loop + extensions + b"".join(frames) + end


def gif_frames(width: int, height: int, count: int) -> bytes:
    return gif(width, height, [gif_frame()] * count)


# --- JPEG ----------------------------------------------------------------------------------


def jpeg_segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def jpeg_with_size(data: bytes, width: int, height: int) -> bytes:
    """`data` (a baseline JPEG) with the size in its SOF0 header replaced."""
    at = data.index(b"\xff\xc0")
    return data[: at + 5] + struct.pack(">HH", height, width) + data[at + 9 :]


def after_soi(data: bytes, *segments: bytes) -> bytes:
    return data[:2] + b"".join(segments) + data[2:]


def exif_loop_app1() -> bytes:
    """APP1 Exif of ~64 KB: one IFD0 of 5400 entries whose Exif, GPS and interop pointers,
    and next-IFD link, all point back at IFD0, plus entries whose values run off the end."""
    entries = []
    for tag in (0x8769, 0x8825, 0xA005):  # ExifIFD, GPS IFD, interoperability IFD: loops
        entries.append(struct.pack("<HHII", tag, 4, 1, 8))
    entries.append(struct.pack("<HHII", 0x0112, 3, 1, 6))  # orientation 6, among the noise
    for i in range(5396):
        # ASCII values far past the block, huge counts, and unknown types
        entries.append(
            struct.pack("<HHII", 0x9000 + i % 4096, (i % 14) + 1, 0x7FFFFFFF, 0xFFFFFFF0)
        )
    ifd = struct.pack("<H", len(entries)) + b"".join(entries) + struct.pack("<I", 8)
    tiff = b"II*\x00" + struct.pack("<I", 8) + ifd
    return jpeg_segment(0xE1, b"Exif\x00\x00" + tiff[: 65533 - 6])


# --- WebP and AVIF ---------------------------------------------------------------------------


def riff(*chunks: bytes) -> bytes:
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) % 2 else b"")


def vp8x(width: int, height: int, flags: int = 0) -> bytes:
    sizes = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return riff_chunk(b"VP8X", bytes([flags, 0, 0, 0]) + sizes)


def vp8_header(width: int, height: int) -> bytes:
    """A VP8 key frame header declaring `width` x `height`, with no frame data after it."""
    frame = b"\x10\x02\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", width, height)
    return riff(riff_chunk(b"VP8 ", frame + bytes(16)))


def vp8l_header(width: int, height: int) -> bytes:
    bits = (width - 1) | (height - 1) << 14
    return riff(riff_chunk(b"VP8L", b"\x2f" + struct.pack("<I", bits) + bytes(16)))


def webp_animation(width: int, height: int, frames: int) -> bytes:
    anmf = riff_chunk(b"ANMF", bytes(16) + riff_chunk(b"VP8L", b"\x2f" + bytes(8)))
    anim = riff_chunk(b"ANIM", bytes(6))
    return riff(vp8x(width, height, flags=0x02), anim, *[anmf] * frames)


def box(kind: bytes, body: bytes = b"") -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def full_box(kind: bytes, body: bytes) -> bytes:
    return box(kind, b"\x00\x00\x00\x00" + body)


def isobmff(major: bytes, compatible: bytes, width: int, height: int) -> bytes:
    """ftyp and a meta box whose primary item has an `ispe` of `width` x `height`."""
    ftyp = box(b"ftyp", major + b"\x00\x00\x00\x00" + compatible)
    hdlr = full_box(b"hdlr", b"\x00" * 4 + b"pict" + b"\x00" * 13)
    pitm = full_box(b"pitm", struct.pack(">H", 1))
    ipco = box(b"ipco", full_box(b"ispe", struct.pack(">II", width, height)))
    ipma = full_box(b"ipma", struct.pack(">IHBB", 1, 1, 1, 0x81))
    meta = full_box(b"meta", hdlr + pitm + box(b"iprp", ipco + ipma))
    return ftyp + meta + box(b"mdat", bytes(32))


def avif_header(width: int, height: int) -> bytes:
    return isobmff(b"avif", b"avifmif1miaf", width, height)


def heic_header(width: int, height: int) -> bytes:
    return isobmff(b"heic", b"mif1heic", width, height)


# --- ImageTragick and other formats ------------------------------------------------------------

# Files the payloads below would create if any of them ever ran.
TRAGICK_MARKERS = (
    "/tmp/imagetragick-url",
    "/tmp/imagetragick-svg",
    "/tmp/imagetragick-msl.png",
    "/tmp/imagetragick-ps",
)

MVG_URL = b"""push graphic-context
viewbox 0 0 640 480
fill 'url(https://127.0.0.1/oops.jpg"|touch "/tmp/imagetragick-url)'
pop graphic-context
"""
MVG_EPHEMERAL = b"""push graphic-context
viewbox 0 0 640 480
image over 0,0 0,0 'ephemeral:/etc/hostname'
pop graphic-context
"""
MVG_FILE_READ = b"""push graphic-context
viewbox 0 0 640 480
image over 0,0 0,0 'label:@/etc/passwd'
text 0,0 '@/etc/passwd'
pop graphic-context
"""
SVG_HREFS = b"""<?xml version="1.0" standalone="no"?>
<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<svg width="640px" height="480px" xmlns="http://www.w3.org/2000/svg"
     xmlns:xlink="http://www.w3.org/1999/xlink">
<image xlink:href="https://127.0.0.1/x.jpg&quot;|touch &quot;/tmp/imagetragick-svg"
       x="0" y="0" height="640px" width="480px"/>
<image xlink:href="file:///etc/passwd" x="0" y="0" height="10" width="10"/>
<image xlink:href="msl:/tmp/x.msl" x="0" y="0" height="10" width="10"/>
<text x="0" y="20">&xxe;</text>
</svg>
"""
MSL = b"""<?xml version="1.0" encoding="UTF-8"?>
<image>
<read filename="/etc/passwd" />
<write filename="/tmp/imagetragick-msl.png" />
</image>
"""
POSTSCRIPT = b"""%!PS-Adobe-3.0
%%BoundingBox: 0 0 100 100
userdict /setpagedevice undef
legal
{ null restore } stopped { pop } if
mark /OutputFile (%pipe%touch /tmp/imagetragick-ps) currentdevice putdeviceprops
showpage
"""
EPS_BINARY = bytes.fromhex("c5d0d3c6") + struct.pack("<IIIIII", 30, len(POSTSCRIPT), 0, 0, 0, 0)
PDF = b"""%PDF-1.4
1 0 obj << /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>
endobj
2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj
trailer << /Root 1 0 R >>
%%EOF
"""
HTML = b"<!doctype html><html><body><script>alert(document.domain)</script></body></html>"


def bmp(width: int, height: int) -> bytes:
    row = (width * 3 + 3) // 4 * 4
    pixels = bytes(row * height)
    header = struct.pack("<2sIHHI", b"BM", 54 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    return header + info + pixels


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("shell.jsp", '<% Runtime.getRuntime().exec(request.getParameter("c")); %>')
    return buffer.getvalue()


# --- the corpus ------------------------------------------------------------------------------


# --- TIFF ----------------------------------------------------------------------------------

Tags = dict[int, tuple[int, int]]  # tag: (type, value), one SHORT (3) or LONG (4) each


def tiff(pages: list[Tags], big: bool = False, loop: bool = False, data: bytes = b"") -> bytes:
    """A little-endian TIFF (or BigTIFF) of IFDs only, one per page, `data` after them;
    with `loop`, the last IFD points back at the first."""
    entry, count, offset = ("<HHQQ", "<Q", "<Q") if big else ("<HHII", "<H", "<I")
    header = (
        b"II+\x00" + struct.pack("<HHQ", 8, 0, 16) if big else b"II*\x00" + struct.pack("<I", 8)
    )
    out, position = [header], len(header)
    first = position
    for index, tags in enumerate(pages):
        size = struct.calcsize(count) + len(tags) * struct.calcsize(entry)
        size += struct.calcsize(offset)
        last = index == len(pages) - 1
        following = (first if loop else 0) if last else position + size
        body = struct.pack(count, len(tags))
        for tag, (kind, value) in sorted(tags.items()):
            body += struct.pack(entry, tag, kind, 1, value)
        out.append(body + struct.pack(offset, following))
        position += size
    return b"".join(out) + data


def tiff_page(width: int, height: int, samples: int = 3, bits: int = 8, **extra: int) -> Tags:
    tags: Tags = {256: (4, width), 257: (4, height), 258: (3, bits), 277: (3, samples),
                  262: (3, 2 if samples >= 3 else 1), 273: (4, 0), 279: (4, 0)}  # fmt: skip
    if "rows_per_strip" in extra:
        tags[278] = (4, extra["rows_per_strip"])
    return tags


def _tiff() -> list[Hostile]:
    image = quadrant_image(16, 12)
    valid = encode(image, "tiff")
    return [
        _valid("tiff", valid, "tiff", "a valid TIFF", filename="x.tiff", mime="image/tiff"),
        _item("tiff-bomb-header-100000x100000", tiff([tiff_page(100_000, 100_000)]),
              TOO_MANY_PIXELS, "an IFD claiming 10 GP, no strips", "x.tif", "image/tiff"),
        _item("bigtiff-bomb-4294967295x4294967295", tiff([tiff_page(0xFFFFFFFF, 0xFFFFFFFF)],
              big=True), TOO_MANY_PIXELS, "a BigTIFF IFD at the 32-bit maximum", "x.tif",
              "image/tiff"),
        _item("tiff-pages-101", tiff([tiff_page(1, 1)] * 101), TOO_LARGE,
              "101 one-pixel pages: one over max_frames", "x.tif", "image/tiff"),
        _item("tiff-pages-5000", tiff([tiff_page(1, 1)] * 5000), UNDECODABLE,
              "5,000 pages: refused while counting", "x.tif", "image/tiff"),
        _item("tiff-ifd-loop", tiff([tiff_page(1, 1)] * 3, loop=True), UNDECODABLE,
              "the last IFD points back at the first", "x.tif", "image/tiff"),
        _item("tiff-strip-3-gb", tiff([tiff_page(16000, 3000, samples=8, bits=64)]),
              UNDECODABLE, "48 MP in one strip of 64-bit samples: 3 GB for libtiff at once",
              "x.tif", "image/tiff"),
        _item("tiff-cut-in-half", _cut(valid, 0.5), UNDECODABLE, "a TIFF cut in its strips",
              "x.tif", "image/tiff"),
        _item("tiff-entries-65535", b"II*\x00" + struct.pack("<IH", 8, 65535) + bytes(64),
              UNDECODABLE, "an IFD declaring 65,535 entries", "x.tif", "image/tiff"),
    ]  # fmt: skip


def jxl_codestream(width: int, height: int) -> bytes:
    """A JPEG XL codestream header and nothing after it: a SizeHeader with 30-bit sides, then
    all-default ImageMetadata (fields packed least significant bit first)."""
    fields = ((0, 1), (3, 2), (height - 1, 30), (0, 3), (3, 2), (width - 1, 30), (1, 1))
    value, position = 0, 0
    for field, width_bits in fields:
        value |= field << position
        position += width_bits
    return b"\xff\x0a" + value.to_bytes((position + 7) // 8 + 1, "little")


def jxl_container(stream: bytes, parts: int = 1) -> bytes:
    """`stream` in the ISOBMFF container: one `jxlc` box, or `parts` `jxlp` boxes (each a
    4-byte index, the last one's top bit set)."""
    head = b"\x00\x00\x00\x0cJXL \r\n\x87\n" + box(b"ftyp", b"jxl \x00\x00\x00\x00jxl ")
    if parts == 1:
        return head + box(b"jxlc", stream)
    step = -(-len(stream) // parts)
    for index in range(parts):
        last = 0x80000000 if index == parts - 1 else 0
        head += box(
            b"jxlp", struct.pack(">I", index | last) + stream[index * step : (index + 1) * step]
        )
    return head


def small_jxl() -> bytes:
    """`small`'s image as a lossy (VarDCT) JPEG XL codestream, by the server's encoder."""
    return encode(pyvips.Image.new_from_buffer(small("png"), ""), "jxl", Q=90)


def _jxl() -> list[Hostile]:
    valid = small_jxl()
    return [
        _valid("jxl", valid, "jxl", "a valid JPEG XL codestream", filename="x.jxl"),
        _valid("jxl-container", jxl_container(valid, parts=3), "jxl",
               "a valid JPEG XL in the container, its codestream in three jxlp parts",
               filename="x.jxl"),
        _item("jxl-bomb-header-100000x100000", jxl_codestream(100_000, 100_000),
              TOO_MANY_PIXELS, "a SizeHeader claiming 10 GP, no image data", "x.jxl",
              "image/jxl"),
        _item("jxl-bomb-1073741824x1073741824-jxlp",
              jxl_container(jxl_codestream(2**30, 2**30), parts=2), TOO_MANY_PIXELS,
              "the largest sides a SizeHeader holds, split over two jxlp parts", "x.jxl",
              "image/jxl"),
        _item("jxl-cut-in-half", _cut(valid, 0.5), UNDECODABLE,
              "a JPEG XL codestream cut in its image data", "x.jxl", "image/jxl"),
        _item("jxl-container-cut", _cut(jxl_container(valid), 0.7), UNDECODABLE,
              "a jxlc box cut short of its declared size", "x.jxl", "image/jxl"),
    ]  # fmt: skip


@cache
def small(fmt: str) -> bytes:
    """A valid 64x48 image with detail (so a cut lands inside the image data)."""
    xyz = pyvips.Image.xyz(64, 48)
    detail = (xyz[0] * xyz[0] * 7 + xyz[1] * xyz[1] * 13 + xyz[0] * xyz[1]) % 97
    image = (quadrant_image(64, 48) * 0.6 + detail).cast("uchar").copy(interpretation="srgb")
    options: dict[str, object] = {"lossless": True} if fmt == "webp" else {}
    return encode(image, fmt, **options)


def _cut(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)]


def _bombs() -> list[Hostile]:
    tiny_jpeg = quadrant_bytes(8, 8, "jpeg")
    return [
        _item("png-bomb-header-60000x60000", png(60000, 60000), TOO_MANY_PIXELS,
              "IHDR claims 3.6 GP, one tiny IDAT"),
        _item("png-bomb-real-20000x20000", png_zeros(20000, 20000), TOO_MANY_PIXELS,
              "a complete 400 MB grey image of zeros in ~400 KB of deflate"),
        _item("png-bomb-1bit-60000x60000", png(60000, 60000, depth=1), TOO_MANY_PIXELS,
              "1-bit grey, the densest a PNG header gets"),
        _item("jpeg-bomb-65500x65500", jpeg_with_size(tiny_jpeg, 65500, 65500), TOO_MANY_PIXELS,
              "an 8x8 JPEG whose SOF0 says 65500x65500"),
        _item("gif-bomb-screen-65535x65535", gif(65535, 65535, [gif_frame()]), TOO_MANY_PIXELS,
              "logical screen of 4.3 GP around a 1x1 frame"),
        _item("gif-bomb-frame-65535x65535", gif(1, 1, [gif_frame(65535, 65535)]),
              TOO_MANY_PIXELS, "a 1x1 screen whose first frame claims 65535x65535"),
        _item("gif-bomb-second-frame-65535x65535",
              gif(1, 1, [gif_frame(), gif_frame(65535, 65535)]), TOO_LARGE,
              "a 1x1 first frame, then a frame that claims 65535x65535"),
        _item("webp-bomb-vp8l-16384x16384", vp8l_header(16384, 16384), TOO_MANY_PIXELS,
              "lossless header at the format's maximum"),
        _item("webp-bomb-vp8-16383x16383", vp8_header(16383, 16383), TOO_MANY_PIXELS,
              "lossy key frame header at the format's maximum"),
        _item("webp-bomb-vp8x-16777216x16777216", riff(vp8x(1 << 24, 1 << 24)), TOO_MANY_PIXELS,
              "extended header: 2^24 on each side"),
        _item("avif-bomb-60000x60000", avif_header(60000, 60000), TOO_MANY_PIXELS,
              "primary item ispe of 3.6 GP"),
        _item("avif-bomb-4294967295-square", avif_header(0xFFFFFFFF, 0xFFFFFFFF),
              TOO_MANY_PIXELS, "ispe at the 32-bit maximum"),
        _item("heic-bomb-100000x100000", heic_header(100000, 100000), TOO_MANY_PIXELS,
              "HEIC primary item ispe of 10 GP", filename="x.heic", mime="image/heic"),
    ]  # fmt: skip


def _limits() -> list[Hostile]:
    return [
        _item("png-pixels-just-over-7072x7071", png(7072, 7071), TOO_MANY_PIXELS,
              "50,006,112 pixels: one row over the 50 MP limit"),
        _item("png-pixels-at-limit-10000x5000-no-data", png(10000, 5000), UNDECODABLE,
              "exactly 50 MP passes the header check; its data is missing"),
        _item("png-side-16385x1", png(16385, 1), TOO_LARGE, "one pixel over max_side"),
        _item("png-side-1x40000", png(1, 40000), TOO_LARGE, "40k pixels, all in one column"),
        _item("png-side-at-limit-16384x1-no-data", png(16384, 1), UNDECODABLE,
              "exactly max_side passes the header check; its data is missing"),
        _item("jpeg-side-20000x1", jpeg_with_size(quadrant_bytes(8, 8, "jpeg"), 20000, 1),
              TOO_LARGE, "a 20000 px wide strip (20k pixels)"),
        _item("gif-side-20000x1", gif(20000, 1, [gif_frame()]), TOO_LARGE,
              "a 20000 px wide logical screen"),
        _item("webp-side-20000x1", riff(vp8x(20000, 1)), TOO_LARGE, "VP8X 20000x1"),
        _item("avif-side-1x20000", avif_header(1, 20000), TOO_LARGE, "ispe 1x20000"),
        _item("heic-side-20000x1", heic_header(20000, 1), TOO_LARGE, "HEIC ispe 20000x1"),
        _item("gif-frames-10000", gif_frames(1, 1, 10_000), TOO_LARGE,
              "10,000 one-pixel frames (~230 KB)"),
        _item("gif-frames-101", gif_frames(1, 1, 101), TOO_LARGE, "one frame over max_frames"),
        _item("apng-actl-4294967295", png(1, 1, before_idat=[
              png_chunk(b"acTL", struct.pack(">II", 0xFFFFFFFF, 0))]), TOO_LARGE,
              "an APNG acTL claiming 2^32-1 frames"),
        _item("webp-frames-101", webp_animation(1, 1, 101), TOO_LARGE, "101 ANMF chunks"),
        _item("gif-animation-pixels-2500x2000x21", gif_frames(2500, 2000, 21), TOO_LARGE,
              "5 MP canvas x 21 frames = 105 MP of animation, each frame under every limit"),
        _item("webp-animation-pixels-4000x4000x10", webp_animation(4000, 4000, 10), TOO_LARGE,
              "16 MP canvas x 10 frames = 160 MP of animation"),
        _valid("gif-frames-at-limit-100", gif_frames(1, 1, 100), "gif",
               "exactly max_frames one-pixel frames"),
    ]  # fmt: skip


def _truncated() -> list[Hostile]:
    items = []
    for fmt in ("jpeg", "png", "gif", "webp", "avif"):
        data = small(fmt)
        items += [
            _item(f"{fmt}-cut-in-header", data[:24], UNDECODABLE,
                  f"the first 24 bytes of a {fmt}", filename=f"x.{fmt}", mime=f"image/{fmt}"),
            _item(f"{fmt}-cut-at-half", _cut(data, 0.5), UNDECODABLE,
                  f"a {fmt} cut in the middle of its image data",
                  filename=f"x.{fmt}", mime=f"image/{fmt}"),
            _item(f"{fmt}-cut-at-90pct", _cut(data, 0.9), UNDECODABLE,
                  f"a {fmt} missing its last tenth", filename=f"x.{fmt}", mime=f"image/{fmt}"),
        ]  # fmt: skip
    animated = animation([quadrant_image(32, 24), quadrant_image(32, 24).rot180()] * 2, "gif",
                         [100] * 4)  # fmt: skip
    items += [
        _item("gif-animated-cut-in-last-frame", animated[:-12], UNDECODABLE,
              "a 4-frame GIF cut inside its last frame", filename="x.gif", mime="image/gif"),
        _item("jpeg-soi-eoi-only", b"\xff\xd8\xff\xd9", UNDECODABLE, "start and end, nothing else"),
        _item("png-signature-only", PNG_SIGNATURE, UNDECODABLE, "8 bytes of PNG signature"),
        _item("png-bad-crc", _bad_crc(small("png")), UNDECODABLE,
              "every byte present, the IDAT CRC wrong"),
        _item("png-idat-garbage", png(64, 48, b"\x78\xda" + bytes(range(256)) * 4), UNDECODABLE,
              "an IDAT that is not a deflate stream"),
        _item("gif-no-image", gif(10, 10, []), UNDECODABLE, "a screen, a palette, no frame"),
        _item("gif-frame-data-short", gif(4, 4, [gif_frame(4, 4)]), UNDECODABLE,
              "a 4x4 frame whose LZW data ends after one pixel", filename="x.gif",
              mime="image/gif"),
        _item("gif-frame-without-data", gif(1, 1, [gif_frame(data=b"\x02\x00")]), UNDECODABLE,
              "an image descriptor whose data is only its terminator", filename="x.gif",
              mime="image/gif"),
        _item("gif-frame-0x1", gif(1, 1, [gif_frame(0, 1)]), UNDECODABLE,
              "a frame 0 pixels wide on a 1x1 screen", filename="x.gif", mime="image/gif"),
        _item("gif-second-frame-0x0", gif(1, 1, [gif_frame(), gif_frame(0, 0)]), UNDECODABLE,
              "an animation whose second frame is empty", filename="x.gif", mime="image/gif"),
    ]  # fmt: skip
    return items


def _bad_crc(data: bytes) -> bytes:
    at = data.index(b"IDAT")
    length = struct.unpack(">I", data[at - 4 : at])[0]
    crc = at + 4 + length
    return data[:crc] + bytes(b ^ 0xFF for b in data[crc : crc + 4]) + data[crc + 4 :]


def _wrong_magic() -> list[Hostile]:
    jpeg, png_data = small("jpeg"), small("png")
    return [
        Hostile("zero-bytes", b"", 400, "bad_request", note="an empty upload is a bad request; "
                "an empty remote body is not an image", external=UNSUPPORTED),
        _item("text-named-jpg", b"just some text, honestly\n", UNSUPPORTED,
              "a text file called x.jpg sent as image/jpeg"),
        _item("html-named-png", HTML, UNSUPPORTED, "HTML sent as image/png",
              filename="x.png", mime="image/png"),
        _item("jpeg-magic-zeroed", b"\x00\x00\x00" + jpeg[3:], UNSUPPORTED,
              "a JPEG whose first three bytes are zero"),
        _item("jpeg-magic-third-byte", jpeg[:2] + b"\x00" + jpeg[3:], UNSUPPORTED,
              "FF D8 00: the SOI without a marker after it"),
        _item("png-magic-high-bit", b"\x09" + png_data[1:], UNSUPPORTED,
              "a PNG through a 7-bit channel", filename="x.png", mime="image/png"),
        _item("png-magic-crlf-mangled", png_data.replace(b"\r\n", b"\n", 1), UNSUPPORTED,
              "a PNG whose CR LF became LF", filename="x.png", mime="image/png"),
        _item("gif88a", b"GIF88a" + small("gif")[6:], UNSUPPORTED, "no such GIF version",
              filename="x.gif", mime="image/gif"),
        _item("riff-wave", small("webp")[:8] + b"WAVE" + small("webp")[12:], UNSUPPORTED,
              "a WebP whose RIFF form type says WAVE", filename="x.webp", mime="image/webp"),
        _valid("png-named-jpg", png_data, "png", "a real PNG called x.jpg, sent as image/jpeg",
               filename="x.jpg", mime="image/jpeg"),
        _valid("jpeg-sent-as-octet-stream", jpeg, "jpeg", "a real JPEG with no image type",
               filename="blob", mime="application/octet-stream"),
    ]  # fmt: skip


def _tragick() -> list[Hostile]:
    return [
        _item("mvg-url-delegate", MVG_URL, UNSUPPORTED, "CVE-2016-3714: fill url(...|cmd)",
              filename="x.jpg"),
        _item("mvg-ephemeral", MVG_EPHEMERAL, UNSUPPORTED, "CVE-2016-3715: ephemeral: deletes",
              filename="x.png", mime="image/png"),
        _item("mvg-label-at-file", MVG_FILE_READ, UNSUPPORTED, "CVE-2016-3717: label:@/etc/passwd",
              filename="x.gif", mime="image/gif"),
        _item("svg-xlink-href", SVG_HREFS, UNSUPPORTED,
              "SVG with https/file/msl hrefs and an XXE entity", filename="x.png",
              mime="image/svg+xml"),
        _item("msl-script", MSL, UNSUPPORTED, "CVE-2016-3718: MSL read/write",
              filename="x.jpg"),
        _item("at-etc-passwd", b"@/etc/passwd", UNSUPPORTED, "an @file read as a whole body",
              filename="x.jpg"),
        _item("ephemeral-text", b"ephemeral:/etc/hostname", UNSUPPORTED,
              "a coder prefix as a body"),
        _item("postscript-pipe", POSTSCRIPT, UNSUPPORTED, "Ghostscript %pipe% OutputFile",
              filename="x.jpg"),
        _item("eps-binary-header", EPS_BINARY + POSTSCRIPT, UNSUPPORTED, "DOS EPS binary header",
              filename="x.eps", mime="application/postscript"),
        _item("pdf-javascript", PDF, UNSUPPORTED, "a PDF with an OpenAction script",
              filename="x.png", mime="image/png"),
        _item("gif-magic-then-mvg", b"GIF89a" + MVG_URL, UNDECODABLE,
              "a GIF signature in front of an MVG payload", filename="x.gif", mime="image/gif"),
        _item("png-magic-then-svg", PNG_SIGNATURE + SVG_HREFS, UNDECODABLE,
              "a PNG signature in front of an SVG payload", filename="x.png", mime="image/png"),
        _item("jpeg-magic-then-mvg", b"\xff\xd8\xff" + MVG_URL, UNDECODABLE,
              "a JPEG SOI in front of an MVG payload"),
    ]  # fmt: skip


def _unsupported() -> list[Hostile]:
    return [
        _item("bmp", bmp(16, 12), UNSUPPORTED, "a valid 24-bit BMP", filename="x.bmp",
              mime="image/bmp"),
        _item("svg-while-off", b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>',
              UNSUPPORTED, "a clean SVG: SVG is off by default (IMAGES_SVG_ENABLED)",
              filename="x.svg", mime="image/svg+xml"),
        _item("jpeg-xl-codestream", b"\xff\x0a" + bytes(30), UNDECODABLE,
              "a JPEG XL header of zeros (1x1) with no image data", filename="x.jxl",
              mime="image/jxl"),
        _item("jpeg-2000", b"\x00\x00\x00\x0cjP  \r\n\x87\n" + bytes(20), UNSUPPORTED,
              "JPEG 2000 signature box", filename="x.jp2", mime="image/jp2"),
        _item("ico", b"\x00\x00\x01\x00\x01\x00\x10\x10" + bytes(40), UNSUPPORTED, "an ICO",
              filename="favicon.ico", mime="image/x-icon"),
        _item("psd", b"8BPS\x00\x01" + bytes(40), UNSUPPORTED, "a Photoshop header",
              filename="x.psd", mime="image/vnd.adobe.photoshop"),
        _item("ppm", b"P6\n16 12\n255\n" + bytes(16 * 12 * 3), UNSUPPORTED, "a binary PPM",
              filename="x.ppm", mime="image/x-portable-pixmap"),
        _item("mp4", box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41") + box(b"mdat"),
              UNSUPPORTED, "an MP4 ftyp", filename="x.mp4", mime="video/mp4"),
        _item("zip", zip_bytes(), UNSUPPORTED, "a ZIP with a JSP inside", filename="x.jpg"),
        _item("gzip", b"\x1f\x8b\x08\x00" + bytes(16),
              UNSUPPORTED, "a gzip header", filename="x.png", mime="image/png"),
        _item("elf", b"\x7fELF\x02\x01\x01" + bytes(57), UNSUPPORTED, "an executable header"),
    ]  # fmt: skip


METADATA_BOMB = 16 << 20


def with_chunk(data: bytes, chunk: bytes) -> bytes:
    """The PNG `data` with `chunk` inserted right before its first IDAT."""
    at = data.index(b"IDAT") - 4
    return data[:at] + chunk + data[at:]


def _metadata_and_dimensions() -> list[Hostile]:
    jpeg, png_data = small("jpeg"), small("png")
    ztxt_bomb = png_chunk(b"zTXt", b"Comment\x00\x00" + zeros_zlib(METADATA_BOMB))
    iccp_bomb = png_chunk(
        b"iCCP", b"icc\x00\x00" + zeros_zlib(METADATA_BOMB - 132, icc_header(METADATA_BOMB))
    )
    ztxt_small = png_chunk(b"zTXt", b"Comment\x00\x00" + zeros_zlib(1 << 20))
    text_html = png_chunk(b"tEXt", b"Comment\x00" + HTML)
    return [
        _valid("jpeg-exif-64k-looping-ifds", after_soi(jpeg, exif_loop_app1()), "jpeg",
               "a 64 KB APP1 whose IFD pointers loop back to IFD0"),
        _item("png-ztxt-bomb-16mib", with_chunk(png_data, ztxt_bomb), TOO_LARGE,
              "a zTXt comment that inflates to 16 MiB (past the 4 MiB metadata bound)"),
        _item("png-iccp-bomb-16mib", with_chunk(png_data, iccp_bomb), TOO_LARGE,
              "an iCCP profile that inflates to 16 MiB (past the 4 MiB metadata bound)"),
        _valid("png-ztxt-1mib", with_chunk(png_data, ztxt_small), "png",
               "a zTXt comment of 1 MiB: within the metadata bound"),
        _valid("gif-screen-0x0-frame-1x1", gif(0, 0, [gif_frame()]), "gif",
               "a 0x0 logical screen; the 1x1 frame sets the canvas"),
        _item("gif-screen-0x0-frame-0x0", gif(0, 0, [gif_frame(0, 0)]), UNDECODABLE,
              "nothing to draw anywhere", filename="x.gif", mime="image/gif"),
        _item("png-width-0", png(0, 10), UNDECODABLE, "IHDR width 0"),
        _item("png-width-negative", png(0x80000000, 10), UNDECODABLE,
              "IHDR width 2^31, negative as a signed int"),
        _item("png-height-4294967295", png(1, 0xFFFFFFFF), UNDECODABLE, "IHDR height -1"),
        _item("jpeg-height-0", jpeg_with_size(jpeg, 64, 0), UNDECODABLE,
              "SOF0 height 0 (a DNL height, never given)"),
        _item("webp-vp8-0x0", vp8_header(0, 0), UNDECODABLE, "VP8 key frame of 0x0",
              filename="x.webp", mime="image/webp"),
        _item("avif-ispe-0x0", avif_header(0, 0), UNDECODABLE, "AVIF ispe 0x0",
              filename="x.avif", mime="image/avif"),
        _item("heic-header-only", heic_header(16, 12), UNDECODABLE,
              "an HEIC header whose primary item has no data", filename="x.heic",
              mime="image/heic"),
        _item("heic-ispe-0x0", heic_header(0, 0), UNDECODABLE, "HEIC ispe 0x0",
              filename="x.heic", mime="image/heic"),
        _valid("png-text-html", with_chunk(png_data, text_html), "png",
               "HTML and a script in a tEXt chunk"),
    ]  # fmt: skip


def _polyglots() -> list[Hostile]:
    jpeg, png_data = small("jpeg"), small("png")
    script = b"<html><script>alert(document.domain)</script><!--"
    gif_js = (
        b"GIF89a/*\x0a\x00\x80\x00\x00"  # width 0x2A2F: `GIF89a/*` opens a JS comment
        + _GIF_PALETTE
        + b"\x21\xfe"  # comment extension that closes it
        + bytes([len(b"*/=alert(1);/*")])
        + b"*/=alert(1);/*"
        + b"\x00"
        + gif_frame()
        + b";*/"
    )
    return [
        _valid("jpeg-com-script", after_soi(jpeg, jpeg_segment(0xFE, script)), "jpeg",
               "an HTML script in a JPEG COM segment", filename="x.html", mime="text/html"),
        _valid("png-zip-appended", png_data + zip_bytes(), "png",
               "a valid PNG with a ZIP (a JSP) after IEND", filename="x.zip",
               mime="application/zip"),
        _valid("gif-javascript", gif_js, "gif",
               "a GIF that is also valid JavaScript: GIF89a/*...*/=alert(1);",
               filename="x.js", mime="application/javascript"),
        _valid("jpeg-zip-appended", jpeg + zip_bytes(), "jpeg",
               "a JPEG with a ZIP after EOI"),
        _valid("webp-html-appended", small("webp") + HTML, "webp",
               "a WebP followed by HTML outside its RIFF", filename="x.webp",
               mime="image/webp"),
    ]  # fmt: skip


@cache
def corpus() -> tuple[Hostile, ...]:
    items = (
        _bombs()
        + _limits()
        + _truncated()
        + _wrong_magic()
        + _tragick()
        + _unsupported()
        + _tiff()
        + _jxl()
        + _metadata_and_dimensions()
        + _polyglots()
    )
    names = [item.name for item in items]
    assert len(set(names)) == len(names), "corpus names must be unique"
    return tuple(items)


def by_name(name: str) -> Hostile:
    return next(item for item in corpus() if item.name == name)
