"""Regenerate the golden images: what ImageMagick's own CLI makes of every pipeline op.

Three small sources are cut from the sample photos in `samples/` with `/usr/bin/convert` (never
/usr/local/bin/convert, which may be a stand-in) into `sources/`: `photo.jpg` (200x150, from
photo-1mp-1200x900.jpg), `dice.png` (200x150 with alpha, from dice-alpha-300x225.png) and
`orient6.jpg` (200x150 stored, EXIF orientation 6 kept, so it shows 150x200). Then, for each
case, a source and a pipeline in this server's URL grammar, the reference is written as PNG
to `expected/<name>.png` by `convert <source> -auto-orient <the op's ImageMagick operators>`,
and `cases.json` lists every case: its source, pipeline, kind (which tolerance
`test_golden.py` applies), the exact convert command and the file. A lossy output format
(`format/jpeg`, `webp`, `avif`, `gif`) has a lossless reference of the same pixels, so the
test compares the decoded output with it. `crop/smart` has no ImageMagick equivalent and is
tested on its own. Deterministic: fixed lists, no timestamps in the PNGs.

    .venv/bin/python -m tests.golden.make_golden   (from the repository root)

The sources are derived from ianare/exif-samples photos (CC BY-SA 4.0) and thumbor's dice
image; see samples/README.md for their origin, and keep that attribution.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from images_server.pipeline.adjust import Hue, Saturation, recolour
from tests.pipeline.make_geometry_table import GRAVITIES

CONVERT = "/usr/bin/convert"
HERE = Path(__file__).resolve().parent
SOURCES_DIR = HERE / "sources"
EXPECTED_DIR = HERE / "expected"
CASES_JSON = HERE / "cases.json"
SAMPLES = HERE.parents[1] / "samples"

# Written after the ops of every reference: 8-bit, no profiles, no date chunks (stable bytes).
PNG_OUTPUT = ("-strip", "-depth", "8", "-define", "png:exclude-chunk=date,time")


# Which tolerance of test_golden.py a case gets, by what its pixels went through: moved only,
# colour maths, shrunk, enlarged, turned by an angle that is not a right one, blurred or
# sharpened, encoded lossily at the default quality or at a low one, reduced to a palette, or
# adjusted (pipeline/adjust.py: rounded to 8 bits as ImageMagick's Q16 values are).
KINDS = ("exact", "colour", "shrink", "enlarge", "rotate", "convolve", "lossy", "low-quality",
         "palette", "adjust")  # fmt: skip


@dataclass(frozen=True)
class Source:
    name: str
    file: str
    bench: str  # the file in samples/ it is cut from
    args: tuple[str, ...]

    def command(self, bench: Path, out_dir: Path, convert: str = CONVERT) -> list[str]:
        return [convert, str(bench / self.bench), *self.args, str(out_dir / self.file)]


SOURCES = {
    source.name: source
    for source in (
        Source("photo", "photo.jpg", "photo-1mp-1200x900.jpg",
               ("-resize", "200x", "-strip", "-sampling-factor", "2x2", "-quality", "90")),
        Source("dice", "dice.png", "dice-alpha-300x225.png", ("-resize", "200x", *PNG_OUTPUT)),
        # No -strip and no -auto-orient: the EXIF orientation (6) must survive.
        Source("orient6", "orient6.jpg", "camera-canon-3mp-orient6.jpg",
               ("-resize", "200x", "-quality", "90")),
    )
}  # fmt: skip

_SLUG = str.maketrans({"!": "bang", ">": "gt", "<": "lt", "^": "fill", "%": "pct", "@": "at"})


@dataclass(frozen=True)
class Case:
    source: str  # a key of SOURCES
    pipeline: str  # this server's URL grammar
    kind: str  # a member of KINDS
    im: tuple[str, ...]  # ImageMagick operators doing the same, after -auto-orient

    @property
    def name(self) -> str:
        parts = self.pipeline.split("/")
        ops = [
            f"{op}_{arg.translate(_SLUG)}" for op, arg in zip(parts[::2], parts[1::2], strict=True)
        ]
        return "__".join([self.source, *ops])

    @property
    def file(self) -> str:
        return f"expected/{self.name}.png"

    def command(self, sources_dir: Path, out: Path, convert: str = CONVERT) -> list[str]:
        source = sources_dir / SOURCES[self.source].file
        return [convert, str(source), "-auto-orient", *self.im, *PNG_OUTPUT, f"png:{out}"]

    def as_json(self) -> dict[str, object]:
        command = self.command(Path("sources"), Path(self.file))
        return {
            "name": self.name,
            "source": f"sources/{SOURCES[self.source].file}",
            "pipeline": self.pipeline,
            "kind": self.kind,
            "convert": ["convert", *command[1:]],
            "file": self.file,
        }


def region(x: int, y: int, width: int, height: int, *ops: str) -> tuple[str, ...]:
    """`ops` applied to the region WxH+X+Y alone, the result put back in its place."""
    place = f"{width}x{height}+{x}+{y}"
    return ("(", "+clone", "-crop", place, "+repage", *ops, ")", "-geometry", f"+{x}+{y}",
            "-composite")  # fmt: skip


def crop(gravity: str, width: int, height: int) -> tuple[str, ...]:
    """`crop/<gravity>WxH`: ImageMagick's gravity crop, gravity reset for later operators."""
    geometry = f"{width}x{height}+0+0"
    return ("-gravity", GRAVITIES[gravity], "-crop", geometry, "+repage", "+gravity")


def pad(width: int, height: int, fill: str) -> tuple[str, ...]:
    """`pad/WxH`: fit inside never enlarging, then centre on a canvas of `fill`."""
    box = f"{width}x{height}"
    return ("-resize", f"{box}>", "-background", fill, "-gravity", "center", "-extent", box,
            "+gravity")  # fmt: skip


def rotate(degrees: str, fill: str) -> tuple[str, ...]:
    return ("-background", fill, "-rotate", degrees)


def flatten(fill: str) -> tuple[str, ...]:
    """A JPEG output of an image with alpha: flattened on the background (white by default)."""
    return ("-background", fill, "-flatten")


def rgb(*operators: str) -> tuple[str, ...]:
    """Operators applied to the colour channels only, as the colour adjustments are."""
    return ("-channel", "RGB", *operators, "+channel")


def color_matrix(op: Saturation | Hue) -> tuple[str, ...]:
    """`saturation/<s>`, `hue/<degrees>`: the matrix pipeline/adjust.py defines, as printed."""
    matrix, _ = recolour(op)
    return ("-color-matrix", " ".join(f"{value:.6f}" for row in matrix for value in row))


def rounded(radius: str) -> tuple[str, ...]:
    """`radius/<px|max>`: alpha times the coverage pipeline/adjust.py defines, as an -fx
    expression of ImageMagick's own (the engines compute it with libvips)."""
    radx, rady = ("w/2", "h/2") if radius == "max" else (f"min({radius},w/2)", f"min({radius},h/2)")
    fx = (f"radx={radx};rady={rady};"
          "pastx=max(0,abs(i+0.5-w/2)-(w/2-radx));pasty=max(0,abs(j+0.5-h/2)-(h/2-rady));"
          "ell=(pastx/radx)^2+(pasty/rady)^2-1;"
          "grad=max(2*sqrt((pastx/radx^2)^2+(pasty/rady^2)^2),1e-9);"
          "u*min(1,max(0,0.5-ell/grad))")  # fmt: skip
    return ("-alpha", "set", "-channel", "A", "-fx", fx, "+channel")


BLOCKS_10 = ("-scale", "20x15", "-sample", "200x150")  # pixelate/10 of a 200x150 image
THUMB = ("-resize", "200x200^", *crop("c", 200, 200))  # preset/thumb
MEDIUM = ("-resize", "800x800>")  # preset/medium

_RESIZES = ["120", "100x", "x90", "100x100", "100x100!", "160x160>", "100x100<", "250x250<",
            "100x100^", "50%", "125%", "@10000"]  # fmt: skip
_ENLARGING = {"250x250<": "enlarge", "125%": "enlarge", "100x100<": "exact"}  # others shrink
_RESIZE_CASES = [Case("photo", f"resize/{g}/format/png", _ENLARGING.get(g, "shrink"),
                      ("-resize", g)) for g in _RESIZES]  # fmt: skip
_CROP_CASES = [Case("photo", f"crop/{g}100x60/format/png", "exact", crop(g, 100, 60))
               for g in GRAVITIES]  # fmt: skip

CASES: tuple[Case, ...] = (
    # resize: every geometry form; with alpha too
    *_RESIZE_CASES,
    Case("dice", "resize/120x", "shrink", ("-resize", "120x")),
    Case("dice", "resize/90x90!", "shrink", ("-resize", "90x90!")),
    # crop: every gravity, the default (centre), offsets, boxes clipped to the image
    *_CROP_CASES,
    Case("photo", "crop/100x60/format/png", "exact", crop("c", 100, 60)),
    Case("photo", "crop/100x60+30+40/format/png", "exact", ("-crop", "100x60+30+40", "+repage")),
    Case("photo", "crop/100x60+150+120/format/png", "exact",
         ("-crop", "100x60+150+120", "+repage")),
    Case("photo", "crop/e300x50/format/png", "exact", crop("e", 300, 50)),
    Case("dice", "crop/sw120x90", "exact", crop("sw", 120, 90)),
    Case("photo", "resize/120x/crop/n60x60/format/png", "shrink",
         ("-resize", "120x", *crop("n", 60, 60))),
    # rotate: right angles are lossless; other angles fill white (JPEG) or transparent
    Case("photo", "rotate/90/format/png", "exact", ("-rotate", "90")),
    Case("photo", "rotate/180/format/png", "exact", ("-rotate", "180")),
    Case("photo", "rotate/270/format/png", "exact", ("-rotate", "270")),
    Case("dice", "rotate/90", "exact", ("-rotate", "90")),
    Case("photo", "rotate/30/format/png", "rotate", rotate("30", "none")),
    Case("photo", "rotate/-45/format/png", "rotate", rotate("-45", "none")),
    Case("dice", "rotate/30", "rotate", rotate("30", "none")),
    Case("photo", "rotate/30/format/jpeg", "lossy", rotate("30", "white")),
    Case("photo", "rotate/-45/format/jpeg", "lossy", rotate("-45", "white")),
    # flip
    Case("photo", "flip/h/format/png", "exact", ("-flop",)),
    Case("photo", "flip/v/format/png", "exact", ("-flip",)),
    Case("photo", "flip/hv/format/png", "exact", ("-flop", "-flip")),
    Case("dice", "flip/h", "exact", ("-flop",)),
    Case("photo", "resize/160x/crop/s100x50/flip/h/rotate/90/format/png", "shrink",
         ("-resize", "160x", *crop("s", 100, 50), "-flop", "-rotate", "90")),
    # blur and sharpen
    Case("photo", "blur/0.5/format/png", "convolve", ("-blur", "0x0.5")),
    Case("photo", "blur/2/format/png", "convolve", ("-blur", "0x2")),
    Case("photo", "blur/6/format/png", "convolve", ("-blur", "0x6")),
    Case("dice", "blur/2", "convolve", ("-blur", "0x2")),
    Case("photo", "sharpen/1/format/png", "convolve", ("-unsharp", "0x1+1+0")),
    Case("photo", "sharpen/3/format/png", "convolve", ("-unsharp", "0x3+1+0")),
    Case("dice", "sharpen/1", "convolve", ("-unsharp", "0x1+1+0")),
    # filter
    Case("photo", "filter/grayscale/format/png", "colour",
         ("-color-matrix", "0.2126 0.7152 0.0722 0.2126 0.7152 0.0722 0.2126 0.7152 0.0722")),
    Case("photo", "filter/sepia/format/png", "colour",
         ("-color-matrix", "0.393 0.769 0.189 0.349 0.686 0.168 0.272 0.534 0.131")),
    Case("photo", "filter/invert/format/png", "exact", ("-channel", "RGB", "-negate", "+channel")),
    Case("dice", "filter/grayscale", "colour",
         ("-color-matrix", "0.2126 0.7152 0.0722 0.2126 0.7152 0.0722 0.2126 0.7152 0.0722")),
    Case("dice", "filter/invert", "exact", ("-channel", "RGB", "-negate", "+channel")),
    # background: the fill of rotate and pad, and what alpha is flattened on for JPEG
    Case("photo", "rotate/30/background/ff0000/format/png", "rotate", rotate("30", "#ff0000")),
    Case("photo", "rotate/30/background/336699/format/jpeg", "lossy", rotate("30", "#336699")),
    Case("dice", "rotate/30/background/00000080", "rotate", rotate("30", "#00000080")),
    Case("photo", "pad/300x200/background/ff8800/format/png", "exact",
         pad(300, 200, "#ff8800")),
    Case("dice", "pad/300x300/background/000000", "exact", pad(300, 300, "#000000")),
    # pad: never enlarges; fits first when the image is larger than the box
    Case("photo", "pad/251x181/format/png", "exact", pad(251, 181, "none")),
    Case("photo", "pad/160x160/format/png", "shrink", pad(160, 160, "none")),
    Case("photo", "pad/160x160/format/jpeg", "lossy", pad(160, 160, "white")),
    Case("dice", "pad/261x260", "exact", pad(261, 260, "none")),
    Case("dice", "pad/100x150", "shrink", pad(100, 150, "none")),
    # alpha to JPEG: flattened on white, or on the background colour
    Case("dice", "format/jpeg", "lossy", flatten("white")),
    Case("dice", "background/ff0000/format/jpeg", "lossy", flatten("#ff0000")),
    Case("dice", "resize/120x/background/3366cc/format/jpeg", "lossy",
         ("-resize", "120x", *flatten("#3366cc"))),
    # redact: a region blurred (sigma 80 / 8) or pixelated (cells of 10 px) on its own, put back
    Case("photo", "redact/60,50,80,40/format/png", "convolve",
         region(60, 50, 80, 40, "-blur", "0x10")),
    Case("photo", "redact/60,50,80,40,pixelate/format/png", "colour",
         region(60, 50, 80, 40, "-scale", "8x4", "-sample", "80x40")),
    # clipped to the 100x75 image: 20x16, cells of 4 px
    Case("photo", "resize/100x/redact/80,59,40,40,pixelate/format/png", "shrink",
         ("-resize", "100x", *region(80, 59, 20, 16, "-scale", "5x4", "-sample", "20x16"))),
    # preset
    Case("photo", "preset/thumb/format/png", "enlarge", THUMB),
    Case("dice", "preset/medium", "exact", MEDIUM),
    Case("dice", "preset/full/format/png", "exact", ()),
    Case("dice", "preset/thumb", "enlarge", THUMB),
    Case("orient6", "preset/thumb/format/png", "enlarge", THUMB),
    # dpr: multiplies every later pixel size
    Case("photo", "dpr/2/resize/60x/format/png", "shrink", ("-resize", "120x")),
    Case("photo", "dpr/2/crop/nw50x40/format/png", "exact", crop("nw", 100, 80)),
    Case("photo", "dpr/1.5/crop/40x30+10+10/format/png", "exact",
         ("-crop", "60x45+15+15", "+repage")),
    Case("photo", "resize/160x/dpr/2/crop/se50x50/format/png", "shrink",
         ("-resize", "160x", *crop("se", 100, 100))),
    Case("photo", "dpr/3/resize/@1000/format/png", "shrink", ("-resize", "@9000")),
    Case("dice", "dpr/2/pad/80x80", "shrink", pad(160, 160, "none")),
    # EXIF orientation 6: applied before any op
    Case("orient6", "format/png", "exact", ()),
    Case("orient6", "resize/90x/format/png", "shrink", ("-resize", "90x")),
    Case("orient6", "crop/ne60x80/format/png", "exact", crop("ne", 60, 80)),
    Case("orient6", "rotate/90/format/png", "exact", ("-rotate", "90")),
    Case("orient6", "resize/90x", "lossy", ("-resize", "90x")),
    # format: each output, decoded and compared with the lossless reference
    Case("photo", "resize/120x", "lossy", ("-resize", "120x")),
    Case("photo", "resize/120x/format/jpg", "lossy", ("-resize", "120x")),
    Case("photo", "resize/120x/format/webp", "lossy", ("-resize", "120x")),
    Case("photo", "resize/120x/format/avif", "lossy", ("-resize", "120x")),
    Case("photo", "resize/120x/format/gif", "palette", ("-resize", "120x")),
    # JPEG XL 75 costs 5.7 here: XYB keeps little of the blue, which MAE counts and eyes do not
    Case("photo", "resize/120x/format/jxl/quality/85", "lossy", ("-resize", "120x")),
    Case("dice", "format/webp", "lossy", ()),
    Case("dice", "format/avif", "lossy", ()),
    Case("dice", "format/jxl", "lossy", ()),
    Case("dice", "format/gif", "palette", ()),
    # colour adjustments (pipeline/adjust.py), on colour only: alpha is left alone
    Case("photo", "brightness/1.3/format/png", "adjust", rgb("-evaluate", "multiply", "1.3")),
    Case("dice", "brightness/0.6", "adjust", rgb("-evaluate", "multiply", "0.6")),
    Case("photo", "contrast/1.5/format/png", "adjust", rgb("-function", "polynomial", "1.5,-0.25")),
    Case("photo", "contrast/0.5/format/png", "adjust", rgb("-function", "polynomial", "0.5,0.25")),
    Case("photo", "saturation/2/format/png", "adjust", color_matrix(Saturation(2))),
    Case("dice", "saturation/0", "adjust", color_matrix(Saturation(0))),
    Case("photo", "hue/90/format/png", "adjust", color_matrix(Hue(90))),
    Case("dice", "hue/-160", "adjust", color_matrix(Hue(200))),
    Case("photo", "gamma/2.2/format/png", "adjust", rgb("-gamma", "2.2")),
    Case("dice", "gamma/0.5", "adjust", rgb("-gamma", "0.5")),
    # pixelate: whole blocks are exact box means (-scale), replicated back (-sample)
    Case("photo", "pixelate/10/format/png", "adjust", BLOCKS_10),
    Case("dice", "pixelate/25", "adjust", ("-scale", "8x6", "-sample", "200x150")),
    Case("photo", "dpr/2/pixelate/5/format/png", "adjust", BLOCKS_10),
    # radius: transparent corners where the format has alpha, else the background
    Case("photo", "radius/30/format/png", "adjust", rounded("30")),
    Case("dice", "radius/max", "adjust", rounded("max")),
    Case("photo", "radius/40/format/jpeg", "lossy", (*rounded("40"), *flatten("white"))),
    Case("photo", "radius/40/background/3366cc/format/png", "adjust",
         (*rounded("40"), *flatten("#3366cc"))),
    # trim: the corner's colour (here transparency) cut off; later ops sized for the box
    Case("dice", "trim/0", "exact", ("-trim", "+repage")),
    Case("dice", "trim/0/crop/se100x100", "exact", ("-trim", "+repage", *crop("se", 100, 100))),
    # quality: a lower quality is further from the reference, still the same picture
    Case("photo", "resize/120x/quality/30", "low-quality", ("-resize", "120x")),
    Case("photo", "resize/120x/format/webp/quality/30", "low-quality", ("-resize", "120x")),
    Case("photo", "resize/120x/format/avif/quality/30", "low-quality", ("-resize", "120x")),
    # maxbytes: between quality 30 and the default, the same pixels as any quality
    Case("photo", "resize/120x/maxbytes/2500", "low-quality", ("-resize", "120x")),
    Case("photo", "resize/120x/format/webp/maxbytes/2000", "low-quality", ("-resize", "120x")),
)  # fmt: skip


def make_source(
    source: Source, out_dir: Path, bench: Path = SAMPLES, convert: str = CONVERT
) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(source.command(bench, out_dir, convert), check=True, capture_output=True)
    return out_dir / source.file


def make_reference(case: Case, sources_dir: Path, out: Path, convert: str = CONVERT) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(case.command(sources_dir, out, convert), check=True, capture_output=True)
    return out


def cases_json() -> str:
    return json.dumps([case.as_json() for case in CASES], indent=1) + "\n"


def main() -> int:
    names = [case.name for case in CASES]
    duplicates = {name for name in names if names.count(name) > 1}
    if duplicates:
        print(f"duplicate case names: {sorted(duplicates)}", file=sys.stderr)
        return 1
    unknown = {case.kind for case in CASES} - set(KINDS)
    if unknown:
        print(f"unknown kinds: {sorted(unknown)}", file=sys.stderr)
        return 1
    for source in SOURCES.values():
        make_source(source, SOURCES_DIR)
    EXPECTED_DIR.mkdir(exist_ok=True)
    for stale in set(EXPECTED_DIR.glob("*.png")) - {HERE / case.file for case in CASES}:
        stale.unlink()
    with ThreadPoolExecutor() as pool:
        list(pool.map(lambda c: make_reference(c, SOURCES_DIR, HERE / c.file), CASES))
    CASES_JSON.write_text(cases_json())
    total = sum(p.stat().st_size for d in (SOURCES_DIR, EXPECTED_DIR) for p in d.iterdir())
    print(f"{len(CASES)} cases, {len(SOURCES)} sources, {total / 1024:.0f} KiB in {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
