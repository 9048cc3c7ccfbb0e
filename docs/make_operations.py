"""Regenerate docs/operations.md and its pictures: every pipeline op, shown on real photos.

Each example is rendered by images-server's own spine (`images_server.render.render`, the
path every `/image/<hash>/...` request takes) with the vips engine, originals in memory and no
result cache, from the sample photos in samples/. The bytes the server
answers are written as they are to docs/images/ (JPEG from the JPEG photo, or the format the
pipeline asks for), so each picture is exactly what its URL returns; examples are chosen to
come out 100 to 320 pixels wide. Then docs/operations.md is written: how a URL is built, one
section per op with its URLs, a sentence, the resulting size and the picture, and the credits
of the photos. Deterministic for one libvips version; pictures no longer used are removed.
Examples that use faces (`crop/face…`, `redact/faces`) get them as the server's job worker
finds them: the same detector (`images_server.faces.find`, OpenCV's cascade) run on the
source, handed to the render as the image's facts (`Plan.with_hints`), as `/image` does from
the image's row.

    .venv/bin/python docs/make_operations.py
"""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from images_server.faces import find
from images_server.formats import EXTENSIONS, TITLES
from images_server.formats.sniff import sniff
from images_server.hashing import original_ref
from images_server.pipeline.focus import ImageHints
from images_server.pipeline.parse import parse_pipeline
from images_server.pipeline.plan import make_plan
from images_server.render import render
from images_server.services import Services
from images_server.settings import Settings
from images_server.storages.memory import MemoryStorage
from images_server.wiring import in_memory

DOCS = Path(__file__).resolve().parent
IMAGES = DOCS / "images"
OPERATIONS_MD = DOCS / "operations.md"
SAMPLES = DOCS.parent / "samples"

SOURCES = {
    "photo": "photo-1mp-1200x900.jpg",
    "dice": "dice-alpha-300x225.png",
    "camera": "camera-canon-3mp-orient6.jpg",
    "portrait": "faces-astronaut-512x512.png",
    "group": "faces-group-1600x900.jpg",
}
DICE = "{dice}"  # in an example's pipeline: the dice's hash (stored before any section runs)
_FILE_SLUG = str.maketrans({"/": "-", "!": "bang", ">": "gt", "<": "lt", "^": "fill",
                            "%": "pct", "@": "at", "+": "p", ":": "-", ",": "_"})  # fmt: skip


@dataclass(frozen=True)
class Example:
    pipeline: str
    text: str  # one short sentence
    source: str = "photo"  # a key of SOURCES
    picture: bool = True  # False: the size is given, the picture left out (too large)
    faces: bool = False  # the render knows the source's faces, as the worker finds them


@dataclass(frozen=True)
class Section:
    op: str  # the op name, as in the URL
    intro: str  # what the op does, in a sentence or two
    examples: tuple[Example, ...]
    grid: bool = False  # pictures side by side, three a row, instead of a table
    notes: str = ""  # more markdown after the examples


@dataclass(frozen=True)
class Result:
    example: Example
    format: str
    width: int
    height: int
    size: int  # bytes
    file: str | None  # path under docs/, when the picture is shown


def url(example: Example) -> str:
    """The URL path as sent: `! ^ % > <` percent-encoded, the rest (`, :` too) left readable;
    an overlay's hash is shown as `<dice>`."""
    sent = quote(example.pipeline.replace(DICE, "DICE"), safe="/@+,:")
    return f"/image/<hash>/{sent.replace('DICE', '<dice>')}"


def make_spine() -> tuple[MemoryStorage, Services]:
    services = in_memory(Settings(engine="vips"))
    assert isinstance(services.storage, MemoryStorage)
    return services.storage, services


def run(storage: MemoryStorage, services: Services, example: Example) -> Result:
    data = (SAMPLES / SOURCES[example.source]).read_bytes()
    ref = original_ref(data)
    storage.put(ref, data)
    dice = hashlib.sha256((SAMPLES / SOURCES["dice"]).read_bytes()).hexdigest()
    plan = make_plan(parse_pipeline(example.pipeline.replace(DICE, dice), max_ops=10))
    if example.faces:
        plan = plan.with_hints(ImageHints(faces=find(data)))
    body = render(services, ref, plan).body
    info = sniff(body)
    file = None
    if example.picture:
        slug = example.pipeline.replace(DICE, "dice").replace(",", "_")
        if len(slug) > 60 or not re.fullmatch(r"[A-Za-z0-9_./!<>^%@+-]*", slug):  # text: words
            digest = hashlib.sha256(slug.encode()).hexdigest()[:8]
            slug = f"{slug.split('/text/')[0]}-text-{digest}"
        name = f"{example.source}-{slug.translate(_FILE_SLUG)}"
        file = f"images/{name}.{EXTENSIONS[info.format]}"
        (DOCS / file).write_bytes(body)
    return Result(example, info.format, info.width, info.height, len(body), file)


def describe(result: Result) -> str:
    kib = max(1, round(result.size / 1024))
    return f"{result.width}x{result.height} {TITLES[result.format]}, {kib} KB"


def picture(result: Result) -> str:
    return f"![{result.example.pipeline}]({result.file})" if result.file else "—"


def table(results: list[Result]) -> list[str]:
    lines = ["| URL | what it does | result | picture |", "|---|---|---|---|"]
    for result in results:
        lines.append(
            f"| `{url(result.example)}` | {result.example.text} | {describe(result)} "
            f"| {picture(result)} |"
        )
    return lines


def grid(results: list[Result]) -> list[str]:
    lines = []
    for start in range(0, len(results), 3):
        row = results[start : start + 3]
        if start == 0:
            lines += ["| " + " | ".join(" " for _ in row) + " |", "|" + "---|" * len(row)]
        lines.append("| " + " | ".join(picture(result) for result in row) + " |")
        lines.append(
            "| " + " | ".join(f"`{url(r.example)}`<br>{r.example.text}" for r in row) + " |"
        )
    return lines


RESIZE = Section(
    "resize",
    "Scales the image; the argument is ImageMagick's geometry, and the size is the one "
    "`convert -resize` gives. Without a flag the image fits inside the box, keeping its "
    "aspect ratio. `resize/auto` takes the width from the browser's client hints, never "
    "enlarging (with `IMAGES_CLIENT_HINTS=true`: README, Client Hints).",
    (
        Example("resize/320", "320 wide; the height follows (`320` is `320x`)."),
        Example("resize/x160", "160 high; the width follows."),
        Example("resize/240x240", "fits inside 240x240."),
        Example("resize/240x240!", "exactly 240x240: the aspect ratio is not kept."),
        Example("resize/320x320>", "fits inside 320x320, only if larger (it is)."),
        Example("resize/160x/resize/320x320<",
                "fits inside 320x320, only if smaller: a 160 px image grows."),
        Example("resize/240x240^", "fills 240x240: the smaller side is 240."),
        Example("resize/25%", "a quarter of each side."),
        Example("resize/@50000", "at most 50,000 pixels, aspect ratio kept."),
    ),
)  # fmt: skip

_GRAVITY_NAMES = {
    "nw": "top left", "n": "top", "ne": "top right",
    "w": "left", "c": "centre", "e": "right",
    "sw": "bottom left", "s": "bottom", "se": "bottom right",
}  # fmt: skip
CROP = Section(
    "crop",
    "Keeps a WxH region: `[gravity]WxH` places it at one of nine gravities (`c`, the centre, "
    "when none is given), `smart` finds the most interesting region, and `WxH+X+Y` takes it "
    "from the top-left corner X, Y. A box larger than the image is clipped to it. Here the "
    "photo is first resized to 320x240, then 120x90 is cropped:",
    (
        *(
            Example(f"resize/320x/crop/{g}120x90", f"`{g}`: {name}")
            for g, name in _GRAVITY_NAMES.items()
        ),
        Example("resize/320x/crop/120x90+20+130", "120x90 from x 20, y 130"),
        Example("resize/320x/crop/smart120x90", "`smart`: where the detail is"),
        Example("resize/320x/crop/e2000x90", "2000x90 at the right: clipped to 320 wide"),
    ),
    grid=True,
)

FOCAL_AND_FACES = Section(
    "crop/focal… and crop/face…",
    "Crops placed on the image's content. `focal:X,Y:WxH` centres the box on a point given in "
    "0..1 of the upright original, as far as the edges allow; `focalWxH` on the point stored "
    "with `PUT /image/<hash>/focal` (a centred `crop/WxH` follows a stored point too); "
    "`faceWxH` on the bounds of every face the job worker found after upload, a `smart` crop "
    "when it found none. The point and the faces follow the ops before the crop. The group "
    "photo (`faces-group-1600x900.jpg`, four faces) and the portrait "
    "(`faces-astronaut-512x512.png`) as the worker sees them:",
    (
        Example("resize/400x", "the group photo, 400 wide.", source="group"),
        Example("resize/400x/crop/focal:0.86,0.34:160x160",
                "a point in the URL: the face on the right.", source="group"),
        Example("resize/400x/crop/face400x120", "every face inside a 400x120 strip.",
                source="group", faces=True),
        Example("resize/400x/crop/smart400x120", "`smart` for comparison: edges, not faces.",
                source="group"),
        Example("resize/256x/crop/face120x120", "the portrait's one face.", source="portrait",
                faces=True),
        Example("resize/256x/crop/120x120", "a centred crop for comparison.",
                source="portrait"),
    ),
)  # fmt: skip

REDACT = Section(
    "redact",
    "Hides what should not be seen. `redact/faces` blurs every face the job worker found "
    "(each face's box grown by a fifth on every side, a Gaussian blur of sigma one eighth of "
    "its longer side, at most 50); `redact/faces,pixelate` fills cells of an eighth of the "
    "box (at least 4 px) with their mean colour instead. `redact/X,Y,W,H` does the same to a "
    "region, in pixels of the image at that point of the pipeline (after the resizes and "
    "crops before it), clipped to the image. Faces are followed through the ops before it. "
    "Until the worker has looked for an image's faces, `redact/faces` answers `503 "
    "faces_pending` with `Retry-After`: a face is never served unredacted.",
    (
        Example("resize/400x/redact/faces", "every face blurred.", source="group",
                faces=True),
        Example("resize/400x/redact/faces,pixelate", "every face pixelated.", source="group",
                faces=True),
        Example("resize/256x/redact/60,160,70,50,pixelate/format/jpeg",
                "a region: the mission patch on the suit, pixelated.", source="portrait"),
        Example("resize/320x/redact/0,0,160,120", "a region of the photo blurred: the top left "
                "quarter."),
    ),
    notes=(
        "An operator can make face redaction mandatory: with `IMAGES_REDACT_FACES=private` "
        "(or `all`) every variant of a private image (or of any image), and the original as "
        "served, ends with `redact/faces`, which no URL can remove; before the worker has "
        "looked, such an image answers `503 faces_pending`."
    ),
)  # fmt: skip

ROTATE = Section(
    "rotate",
    "Turns the image clockwise by any number of degrees (negative: anticlockwise). Right "
    "angles are lossless turns; other angles enlarge the canvas to hold the whole image, "
    "and fill the corners with `background`: transparent where the format has alpha (PNG, "
    "WebP, AVIF, GIF), white for JPEG.",
    (
        Example("resize/240x/rotate/90", "a quarter turn clockwise."),
        Example("resize/240x/rotate/-30", "30° anticlockwise, on white (JPEG)."),
        Example("resize/240x/rotate/30/format/webp", "30° clockwise, corners transparent."),
    ),
)

FLIP = Section(
    "flip",
    "Mirrors the image: `h` left to right, `v` top to bottom, `hv` both (a half turn).",
    (
        Example("resize/240x/flip/h", "mirrored left to right."),
        Example("resize/240x/flip/v", "mirrored top to bottom."),
    ),
)

FORMAT = Section(
    "format",
    "Chooses the output format: `jpeg` (or `jpg`), `png`, `webp`, `avif`, `gif`, `jxl` (JPEG "
    "XL, which few browsers show), or `auto`. "
    "Without it the output has the source's format. Like `quality` and `background`, it may "
    "stand anywhere in the pipeline (the last one wins). A JPEG output of an image with alpha "
    "is flattened on white, or on the `background` colour. The same 240x180 picture in each:",
    (
        Example("resize/240x/format/jpeg", "JPEG, quality 85 by default."),
        Example("resize/240x/format/png", "PNG: lossless, larger.", picture=False),
        Example("resize/240x/format/webp", "WebP, quality 80 by default."),
        Example("resize/240x/format/avif", "AVIF, quality 60 by default."),
        Example("resize/240x/format/gif", "GIF: 256 colours.", picture=False),
        Example(
            "resize/240x/format/jxl",
            "JPEG XL, quality 75 by default (a JPEG with no other op is recompressed "
            "losslessly instead: docs/formats.md).",
            picture=False,
        ),
    ),
    notes=(
        "### `format/auto`\n\n"
        "`format/auto` picks the best format the browser says it accepts: AVIF if the "
        "request's `Accept` header lists `image/avif`, else WebP if it lists `image/webp`, "
        "else the source's format. q-values rank the two (`q=0` refuses), AVIF winning a tie; "
        "a bare `*/*` (curl's default) is not taken as a promise to decode AVIF. The server's "
        "`IMAGES_AUTO_FORMATS` (default `avif,webp`) says which formats it may choose and in "
        "which order; JPEG XL (`image/jxl`) only when the operator lists `jxl`. The answer "
        "carries `Vary: Accept`, so a shared cache keeps one copy per format, and the cache "
        "key uses the chosen format, so odd `Accept` headers cannot multiply cache entries:\n\n"
        "```console\n"
        "$ curl -s -o a.avif -H 'Accept: image/avif,image/webp,*/*' "
        "http://127.0.0.1:8000/image/<hash>/resize/240x/format/auto\n"
        "$ curl -s -o a.webp -H 'Accept: image/webp,*/*' "
        "http://127.0.0.1:8000/image/<hash>/resize/240x/format/auto\n"
        "$ curl -s -o a.jpg http://127.0.0.1:8000/image/<hash>/resize/240x/format/auto\n"
        "```\n\n"
        "The query `?format=webp` does the same as a trailing `format/webp` segment."
    ),
)

QUALITY = Section(
    "quality",
    "Sets the encoder's quality, 1 to 100, for JPEG, WebP, AVIF and JPEG XL (defaults 85, 80, "
    "60 and 75): "
    "lower is smaller and blockier.",
    (
        Example("resize/240x/quality/15", "JPEG at quality 15."),
        Example("resize/240x/quality/95", "JPEG at quality 95."),
        Example("resize/240x/format/webp/quality/30", "WebP at quality 30."),
    ),
)

MAXBYTES = Section(
    "maxbytes",
    "A byte budget, 100 to 20000000: the highest quality (from 1 up to the one the image would "
    "get anyway) whose output fits it, found in at most 7 encodes. When even quality 1 is too "
    "large the answer is `400` `over_byte_budget` naming the budget and the smallest size "
    "reached (smaller dimensions instead only if the server allows them). Not with "
    "`quality/auto`, PNG or GIF.",
    (
        Example("resize/240x/maxbytes/6000", "JPEG at the highest quality within 6000 bytes."),
        Example("resize/240x/format/webp/maxbytes/4000", "WebP within 4000 bytes."),
    ),
)

BLUR = Section(
    "blur",
    "A Gaussian blur of the given sigma, 0.1 to 50, in pixels of the image at that point of "
    "the pipeline (as `convert -blur 0x<sigma>`).",
    (
        Example("resize/240x/blur/1.5", "a light blur."),
        Example("resize/240x/blur/6", "a strong blur."),
    ),
)

SHARPEN = Section(
    "sharpen",
    "An unsharp mask of the given sigma, 0.1 to 50, amount 1, no threshold (as "
    "`convert -unsharp 0x<sigma>+1+0`): edges gain contrast.",
    (
        Example("resize/240x/sharpen/1", "fine detail sharpened."),
        Example("resize/240x/sharpen/4", "broad edges sharpened."),
    ),
)

FILTER = Section(
    "filter",
    "A named colour filter: `grayscale` (Rec. 709 luma, three channels kept), `sepia` (the "
    "classic matrix of CSS filters) or `invert` (the colours, not the alpha).",
    (
        Example("resize/240x/filter/grayscale", "shades of grey."),
        Example("resize/240x/filter/sepia", "brown tones of an old print."),
        Example("resize/240x/filter/invert", "a negative."),
    ),
)

BACKGROUND = Section(
    "background",
    "Sets the colour, `rrggbb` or `rrggbbaa` in hex, that fills the corners of a `rotate`, "
    "the borders of a `pad`, and replaces transparency when the output is JPEG. Like `format`, "
    "it applies wherever it stands.",
    (
        Example("resize/240x/rotate/20/background/ffcc00", "corners of a turn in yellow."),
        Example("background/3366cc/format/jpeg",
                "the dice's transparency flattened on blue for JPEG.", source="dice"),
        Example("format/jpeg", "the same without `background`: flattened on white.",
                source="dice"),
    ),
)  # fmt: skip

PAD = Section(
    "pad",
    "Letterboxes: fits the image inside WxH (never enlarging it), then centres it on a WxH "
    "canvas of `background` (transparent where the format allows, else white).",
    (
        Example("pad/240x240", "a 240x180 photo on a 240x240 white canvas (JPEG)."),
        Example("pad/240x240/background/1e1e1e", "the same on near-black."),
        Example("pad/300x300", "the dice on a transparent square (PNG).", source="dice"),
    ),
)

PRESET = Section(
    "preset",
    "Expands to a named pipeline, configured with `IMAGES_PRESETS`; the defaults are `thumb` "
    "(`resize/200x200^/crop/200x200`: exactly 200x200), `medium` (`resize/800x800>`) and `full` "
    "(the original size). `?size=thumb` in the query does the same after the path's ops.",
    (
        Example("preset/thumb", "exactly 200x200: fill, then keep the centre."),
        Example("preset/medium", "fits inside 800x800, never enlarging.", picture=False),
        Example("resize/240x/preset/full", "no change in size: `full` adds nothing.",
                picture=False),
    ),
)  # fmt: skip

DPR = Section(
    "dpr",
    "A device pixel ratio, 1 to 4, multiplying every pixel size after it (resize, crop, pad), "
    "so a page can ask for the same layout size at 2x: `dpr/2/resize/160x` is "
    "`resize/320x`. `dpr/auto` takes the ratio from the browser's client hints.",
    (
        Example("resize/160x", "160 wide, for a 1x screen."),
        Example("dpr/2/resize/160x", "320 wide: the same layout width at 2x."),
        Example("dpr/2/resize/160x/crop/80x80", "a 160x160 crop: crop sizes double too."),
    ),
)

OVERLAY = Section(
    "overlay",
    "Lays another uploaded image over this one. The argument is its hash, then options in any "
    "order, separated by commas: a gravity (`nw n ne w c e sw s se`, default `se`), a margin "
    "in pixels from the edges it is placed against (default 0), `o<percent>` its opacity "
    "(default 100), `s<percent>` its width as a share of this image's width (default: its own "
    "size, shrunk to fit when larger), `tile` to repeat it over the whole image from the "
    "top-left corner with the margin between copies, and `min<px>` to leave images narrower "
    "than that alone. The overlay's transparency is kept; its access is checked like the "
    "image's (a private overlay needs the rights to read it, and makes the variant private). "
    "Below, `<dice>` is the dice's hash.",
    (
        Example("resize/320x/overlay/{dice},se,10,s30", "the dice, 30% of the width, 10 px "
                "from the bottom-right corner."),
        Example("resize/320x/overlay/{dice},c,o50,s60", "centred, at half opacity."),
        Example("resize/320x/overlay/{dice},s12,tile,8", "a small copy repeated, 8 px apart."),
    ),
    notes="`IMAGES_WATERMARK` (the same argument, e.g. `<hash>,se,10,o60,s20`) lays one image "
    "over every output of the server, after the URL's ops, so no URL can remove it; "
    "`IMAGES_WATERMARK_MIN_WIDTH` spares outputs narrower than that.",
)  # fmt: skip

TEXT = Section(
    "text",
    "Draws words on the image with the fonts that ship with the server (Noto Sans, Noto Sans "
    "Arabic and Droid Sans Fallback for Chinese, Japanese and Korean; never a system font). "
    "The text comes first, percent-encoded, up to the first comma, at most 200 characters; "
    "a text holding a comma, a slash or a percent sign is sent as `b64:` and its base64url. "
    "Options follow in any order: a gravity (default `se`), a margin in pixels (default 0), "
    "`s<px>` the size (6..200, default 32), `c<rrggbb[aa]>` the colour (default white), "
    "`o<percent>` the opacity, `bg<rrggbb[aa]>` a box behind it and `w<px>` the width at which "
    "lines wrap. Markup is never interpreted; right-to-left scripts run right to left. Text "
    "wider than the image is shrunk to fit.",
    (
        Example("resize/320x/text/Autumn leaf,sw,8,s28", "white, 8 px from the bottom-left."),
        Example("resize/320x/text/ورقة خريف,c,s36,cffd700,bg00000099",
                "Arabic (\"autumn leaf\") on a translucent box, centred."),
        Example("resize/320x/text/秋天的叶子,n,10,s30,c1e1e1e,bgffffffcc",
                "Chinese (\"autumn leaves\"), dark on a light box, at the top."),
    ),
)  # fmt: skip

TRIM = Section(
    "trim",
    "Cuts off the borders of the top-left pixel's colour: a pixel is content when any channel "
    "(colour weighted by alpha, and alpha) differs from the corner's by more than the "
    "threshold, 0 to 255; the smallest box holding all content is kept. The ops after a trim "
    "are sized for what it keeps. Not on an animation that stays animated (`400`).",
    (
        Example("trim/0", "the transparent margins of the dice removed (300x225 before).",
                source="dice"),
        Example("pad/300x300/background/ffffff/trim/10/format/png",
                "white bars added by `pad`, then trimmed away.", source="dice"),
        Example("resize/240x/pad/300x240/background/ffcc00/trim/40", "yellow bars trimmed."),
    ),
)  # fmt: skip

ADJUSTMENTS = Section(
    "brightness",
    "Colour adjustments work on the colour channels of the sRGB values (as CSS filters do), "
    "never on alpha; `1` leaves the image as it is (and is dropped from the cache key). "
    "`brightness/<f>` multiplies every channel by f, 0 to 4.",
    (
        Example("resize/240x/brightness/1.4", "40% brighter."),
        Example("resize/240x/brightness/0.6", "40% darker."),
    ),
)

CONTRAST = Section(
    "contrast",
    "`contrast/<f>`, 0 to 4: each channel moves away from mid-grey (f > 1) or towards it "
    "(f < 1): c → f·c + 127.5·(1 - f), as CSS `contrast()`.",
    (
        Example("resize/240x/contrast/1.6", "more contrast."),
        Example("resize/240x/contrast/0.5", "flatter, greyer."),
    ),
)

SATURATION = Section(
    "saturation",
    "`saturation/<s>`, 0 to 4: the `saturate` matrix of CSS filters; 0 is grey, above 1 more "
    "colourful.",
    (
        Example("resize/240x/saturation/2", "twice as colourful."),
        Example("resize/240x/saturation/0.3", "nearly grey."),
    ),
)

GAMMA = Section(
    "gamma",
    "`gamma/<g>`, 0.1 to 10: c → 255·(c/255)^(1/g) (as `convert -gamma g`); above 1 lifts "
    "the mid-tones, below 1 sinks them, black and white stay.",
    (
        Example("resize/240x/gamma/1.8", "mid-tones lifted."),
        Example("resize/240x/gamma/0.6", "mid-tones darkened."),
    ),
)

HUE = Section(
    "hue",
    "`hue/<degrees>`: the `hueRotate` matrix of CSS filters, any angle (kept in 0 to 360).",
    (
        Example("resize/240x/hue/120", "reds turned green."),
        Example("resize/240x/hue/-90", "reds turned magenta."),
    ),
)

RADIUS = Section(
    "radius",
    "Rounded corners of the given radius in pixels (scaled by `dpr`, at most half of each "
    "side), or `max`: half of each side, a circle from a square and an ellipse otherwise. "
    "The corners are transparent where the format has alpha, else `background` (white by "
    "default); `background` also fills them in a PNG. The edge is anti-aliased over about a "
    "pixel.",
    (
        Example("resize/240x/radius/24/format/png", "24-pixel corners, transparent (PNG)."),
        Example("resize/240x/radius/24", "the same as JPEG: white corners."),
        Example("resize/240x240^/crop/240x240/radius/max/format/webp", "a circle."),
        Example("resize/240x/radius/max/background/1e1e1e", "an ellipse on near-black."),
    ),
)

PIXELATE = Section(
    "pixelate",
    "Blocks of n x n pixels (1 to 1000, scaled by `dpr`) from the top-left corner, each "
    "filled with its mean colour (weighted by alpha); the last column and row of blocks are "
    "narrower when the size is not a multiple of n.",
    (
        Example("resize/240x/pixelate/8", "8-pixel blocks."),
        Example("resize/240x/pixelate/50",
                "50-pixel blocks: the last column is 40 wide, the last row 30 high."),
        Example("resize/200x/pixelate/12", "transparent pixels count by their alpha.",
                source="dice"),
    ),
)  # fmt: skip

SECTIONS = (RESIZE, CROP, FOCAL_AND_FACES, ROTATE, FLIP, FORMAT, QUALITY, MAXBYTES, BLUR,
            SHARPEN, FILTER, BACKGROUND, PAD, PRESET, REDACT, DPR, OVERLAY, TEXT, TRIM,
            ADJUSTMENTS, CONTRAST, SATURATION, GAMMA, HUE, RADIUS, PIXELATE)  # fmt: skip

BEFORE = (
    Example("resize/320x", "the photo"),
    Example("format/png", "the dice", source="dice"),
    Example("resize/x240", "the camera file", source="camera"),
)


def intro(before: list[Result], hashes: dict[str, str]) -> list[str]:
    photo, dice, camera = before
    return [
        "# Pipeline operations",
        "",
        "<!-- Generated by docs/make_operations.py: edit that script, not this file. -->",
        "",
        "Every variant of an uploaded image is a URL: `/image/<hash>` followed by the "
        "pipeline, `op/argument` pairs applied left to right (at most 10 ops):",
        "",
        "    /image/<hash>/resize/320x/crop/n120x90/format/webp",
        "",
        "`<hash>` is the SHA-256 of the original's bytes, which `POST /upload` returns. "
        "Characters that mean something in a URL must be percent-encoded: `!` is `%21`, `^` "
        "is `%5E`, `%` is `%25`, `>` is `%3E` and `<` is `%3C` (so `resize/240x240!` is sent "
        "as `resize/240x240%21`). The URLs below are written as they are sent. An unknown op "
        "or a bad argument is a `400` naming the segment. EXIF orientation is applied before "
        "any op, and no output carries EXIF metadata.",
        "",
        "Each picture below is exactly what its URL returns, rendered by this server "
        "(libvips engine) by `docs/make_operations.py`. Unless said otherwise the original is "
        f"`photo-1mp-1200x900.jpg` (1200x900 JPEG, hash `{hashes['photo']}`). **Before**, "
        f"as `{url(photo.example)}` shows it:",
        "",
        picture(photo),
        "",
        f"The image with transparency is `dice-alpha-300x225.png` (300x225 PNG with alpha, "
        f"`{url(dice.example)}` shown here); the camera file `camera-canon-3mp-orient6.jpg` is "
        f"stored 2048x1536 with EXIF orientation 6, and `{url(camera.example)}` gives "
        f"{camera.width}x{camera.height}, upright:",
        "",
        f"{picture(dice)} {picture(camera)}",
        "",
    ]


CREDITS = [
    "## Credits",
    "",
    "The photos come from `samples/` (see its README.md):",
    "",
    "- `photo-1mp-1200x900.jpg` (an autumn leaf) is derived from `jpg/mobile/jolla.jpg` and "
    "`camera-canon-3mp-orient6.jpg` is `jpg/hdr/canon_hdr_NO.jpg`, both from "
    "[ianare/exif-samples](https://github.com/ianare/exif-samples), released under "
    "[CC BY-SA 4.0](https://creativecommons.org/licenses/by-sa/4.0/); the pictures on this "
    "page derived from them are under the same licence.",
    "- `dice-alpha-300x225.png` is thumbor's `docs/images/dice_transparent_background.png` "
    "([thumbor/thumbor](https://github.com/thumbor/thumbor)), which appears to be Wikimedia "
    'Commons\' "PNG transparency demonstration 1.png" (CC BY-SA 3.0).',
    "- `faces-astronaut-512x512.png` is scikit-image's `astronaut.png` (the astronaut Eileen "
    "Collins, from the NASA Great Images database), in the public domain; "
    "`faces-group-1600x900.jpg` is four copies of its head pasted on the enlarged leaf "
    "photo, under CC BY-SA 4.0 as that photo.",
    "",
]


def section(part: Section, results: list[Result]) -> list[str]:
    lines = [f"## `{part.op}`", "", part.intro, ""]
    lines += grid(results) if part.grid else table(results)
    lines.append("")
    if part.notes:
        lines += [part.notes, ""]
    return lines


def main() -> int:
    IMAGES.mkdir(parents=True, exist_ok=True)
    for old in IMAGES.iterdir():
        old.unlink()
    storage, services = make_spine()
    hashes = {
        name: hashlib.sha256((SAMPLES / file).read_bytes()).hexdigest()
        for name, file in SOURCES.items()
    }
    lines = intro([run(storage, services, example) for example in BEFORE], hashes)
    for part in SECTIONS:
        lines += section(part, [run(storage, services, example) for example in part.examples])
    lines += CREDITS
    OPERATIONS_MD.write_text("\n".join(lines))
    total = sum(path.stat().st_size for path in IMAGES.iterdir())
    count = len(list(IMAGES.iterdir()))
    print(f"{OPERATIONS_MD}: {count} pictures, {total / 1024:.0f} KiB in {IMAGES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
