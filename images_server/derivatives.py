"""Derivatives: a pyramid of downscaled copies of a large original, so a render that shrinks
decodes a few hundred thousand pixels instead of twelve million.

After an upload, a worker (`jobs.tasks`, task `after_upload`, before the eager variants)
renders the original at ½, ¼, ⅛… of its upright size, down to a longest side of about
256 px, with the configured engine itself: so each copy holds exactly what that engine
decodes (orientation applied, converted to untagged 8-bit sRGB, no metadata), encoded as JPEG
quality 95 with chroma at half resolution (4:2:0): a copy is at least 1.25 times its outputs,
whose chroma the lossy encoders halve anyway, and it decodes about 1 ms faster (of 6 for the
12 MP photo's 1000 px copy) and is 20% smaller than at 4:4:4, at the same SSIM table
(`tests/derivatives`: every row ≥ 0.9937). Copies are kept smallest first while their bytes
stay within `derivatives_max_storage` (40%) of the original's; a 12 MP JPEG keeps ¼, ⅛ and
1/16 (about 27%), since its ½ copy alone would add about 55%. A small JSON manifest
records the original's size and format, the engine, and the copies kept; it is stored before
them, so `delete` finds every copy that may exist, and a render that misses a named copy reads
the original.

Everything is stored through the `Storage` Protocol under `Namespace.DERIVATIVES`, keyed by a
hash of the part and the original's ref (`hashing.derivative_ref`): no URL can name one, it
follows the original into whatever storage holds it, and `delete` removes it with the original.

Rendering (`choose`): only originals (not `/external` ones, not packs), only when a manifest
built by the same engine exists, and only when the plan, resolved against the original's size,
starts by shrinking (`ResizeTo`) to at most 1/1.25 of a copy in both dimensions (`SHRINK`;
half of it when the plan sharpens). Every later
step runs on the shrunk image, whose size is the same from either source, so the output size
and every intermediate size stay exactly those of the original's plan; the copy read is the
smallest that qualifies. Anything else (a crop in original pixels, a rotation or a pad of the
full image, an enlargement, a shrink by less than 1.25 of the ½ copy) reads the original.
Opaque photos only (JPEG of one frame; HEIC, TIFF, JPEG XL, whose first frame or page is the
picture), with a longest side of at least 1024 px: for the formats of the shared decoders
(`images_server.decoders`), a copy also saves their slower decoding, a 12 MP HEIC's above all.
The cache key does not depend on the source: `tests/derivatives` proves the outputs equivalent
(same sizes and format; SSIM ≥ 0.99 of the variant's pixels, ≥ 0.97 as served in JPEG 85 or
WebP 80, which is that encoder's own noise: the same pixels at quality 86 score 0.989).

libvips only (`ENGINES`): the Wand engine's renders of a copy differ visibly from its renders
of the original for outputs of about 300 px (pixel SSIM 0.93 to 0.98, measured; 400 px outputs
match), most likely because its libjpeg size hint decodes a ¼ copy at 3/8 scale where the
original decodes at 1/8; so with Wand no copies are built or read.

Manifests that exist are remembered per process (they never change; a deleted original's copies
are gone from storage, and a read that misses falls back to the original, which then 404s).
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from images_server import admission
from images_server.engines.base import Output, first_resize
from images_server.engines.deadline import Deadline
from images_server.errors import ImageNotFound
from images_server.formats import ImageFormat
from images_server.formats.sniff import SourceInfo, sniff
from images_server.hashing import ImageRef, Namespace, derivative_ref
from images_server.pipeline.ops import Sharpen
from images_server.pipeline.plan import Plan
from images_server.pipeline.steps import (
    Overlays,
    ResizeTo,
    Resolved,
    SharpenBy,
    TrimThen,
    resolve,
)
from images_server.services import Services
from images_server.storages.base import Storage

log = logging.getLogger(__name__)

QUALITY = 95  # JPEG, with chroma at half resolution (4:2:0): see the module
MAX_LEVELS = 8  # ½ .. 1/256: every part `delete` removes
MIN_LEVEL_SIDE = 200  # the smallest copy's longest side is at least this (≈256 px)
PHOTO_FORMATS: frozenset[ImageFormat] = frozenset({"jpeg", "heic", "tiff", "jxl"})
MIN_SOURCE_SIDE = 1024  # smaller originals decode fast enough: no copies
# A copy is read for a first resize to at most 1/SHRINK of it, both ways. libvips decodes the
# original itself at 2, 4 or 8 times the output; a ¼ copy holds what its 4x decode gives (plus
# JPEG q95 noise), and its renders match the original's at SSIM 0.991 with no resize left
# (1.0), 0.996 at 1.25 and 0.999 at 2 (12 MP and 8 MP photos, measured): so 800 px from a
# 4000 px photo decodes 0.75 MP instead of 3. Sharpening amplifies the copy's coding noise
# (0.986 at 1.28, measured on a 3 MP photo), so a plan that sharpens keeps the margin of 2.
SHRINK = 1.25
SHRINK_TO_SHARPEN = 2.0
ENGINES = frozenset({"vips"})  # the engines that build and read copies
_MANIFEST = "manifest"
_VERSION = 1
_REMEMBERED = 4096  # manifests kept per process


@dataclass(frozen=True)
class Level:
    """The copy at 1/2**n of the original, as stored."""

    n: int
    width: int
    height: int
    size: int  # bytes


@dataclass(frozen=True)
class Manifest:
    engine: str  # the engine that rendered the copies: only that engine reads them
    format: ImageFormat  # the original's
    width: int  # the original's, upright
    height: int
    size: int  # the original's bytes
    levels: tuple[Level, ...]  # largest first

    def to_json(self) -> bytes:
        body = {
            "version": _VERSION,
            "engine": self.engine,
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "size": self.size,
            "levels": [[lv.n, lv.width, lv.height, lv.size] for lv in self.levels],
        }
        return json.dumps(body, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest | None:
        """The manifest, or None for one this code cannot read (another version)."""
        try:
            body = json.loads(data)
            if body.get("version") != _VERSION:
                return None
            levels = tuple(Level(*(int(v) for v in level)) for level in body["levels"])
            return cls(
                str(body["engine"]),
                body["format"],
                int(body["width"]),
                int(body["height"]),
                int(body["size"]),
                levels,
            )
        except (ValueError, KeyError, TypeError):
            return None

    @property
    def extra_bytes(self) -> int:
        return sum(level.size for level in self.levels)

    def source_info(self) -> SourceInfo:
        """The original's header facts, as far as choosing the output needs them."""
        return SourceInfo(self.format, self.width, self.height)


@dataclass(frozen=True)
class Chosen:
    """A copy to render from: its bytes and header, the original's facts, and the plan
    resolved against the original (its steps apply to the copy unchanged)."""

    data: bytes
    info: SourceInfo  # the copy's: upright already (orientation 1)
    original: SourceInfo
    resolved: Resolved
    level: Level


def manifest_ref(ref: ImageRef) -> ImageRef:
    return derivative_ref(ref, _MANIFEST)


def level_ref(ref: ImageRef, n: int) -> ImageRef:
    return derivative_ref(ref, f"level{n}")


def enabled(services: Services) -> bool:
    """Derivatives are on, and the engine is libvips (see the module)."""
    return services.settings.derivatives and services.engine.name in ENGINES


def eligible(info: SourceInfo) -> bool:
    """Whether an original gets copies: a large, opaque, still photo (a JPEG, or a HEIC, TIFF
    or JPEG XL, of which only the first frame or page is ever decoded)."""
    if info.format not in PHOTO_FORMATS or info.has_alpha:
        return False
    still = info.frames == 1 or info.format != "jpeg"
    return still and max(info.width, info.height) >= MIN_SOURCE_SIDE


def level_sizes(width: int, height: int) -> list[tuple[int, int, int]]:
    """(n, width, height) of each copy, largest first: 1/2**n of the upright original."""
    sizes = []
    for n in range(1, MAX_LEVELS + 1):
        w, h = max(round(width / 2**n), 1), max(round(height / 2**n), 1)
        if max(w, h) < MIN_LEVEL_SIDE:
            break
        sizes.append((n, w, h))
    return sizes


def pick(levels: tuple[Level, ...], resolved: Resolved) -> Level | None:
    """The smallest copy the plan may start from, or None: the original."""
    resize = first_resize(resolved)
    if resize is None:
        return None
    sharpens = any(isinstance(step, SharpenBy) for step in resolved.steps) or any(
        isinstance(op, Sharpen) for step in resolved.steps if isinstance(step, TrimThen)
        for op in step.rest
    )  # fmt: skip
    shrink = SHRINK_TO_SHARPEN if sharpens else SHRINK
    fits = [
        level
        for level in levels
        if level.width >= shrink * resize.width and level.height >= shrink * resize.height
    ]
    return min(fits, key=lambda level: level.width * level.height, default=None)


# --- Building ------------------------------------------------------------------------------


def _render_level(services: Services, data: bytes, info: SourceInfo, w: int, h: int) -> bytes:
    resolved = Resolved((ResizeTo(w, h),), w, h)
    deadline = Deadline(services.settings.render_timeout)
    with admission.slot():
        output = Output("jpeg", QUALITY, subsampled=True)
        return services.engine.render(data, info, resolved, output, deadline)


def build(services: Services, ref: ImageRef) -> Manifest:
    """Render the copies of `ref` within the storage budget, store the manifest, then them
    (nothing when this engine built them already: a second upload of the same bytes)."""
    storage = services.storage
    existing = read_manifest(storage, ref)
    if existing is not None and existing.engine == services.engine.name:
        return existing
    data = storage.get(ref)
    info = sniff(data)
    budget = services.settings.derivatives_max_storage * len(data)
    levels: list[Level] = []
    bodies: list[bytes] = []
    if enabled(services) and eligible(info):
        total = 0
        for n, w, h in reversed(level_sizes(info.width, info.height)):  # smallest first
            body = _render_level(services, data, info, w, h)
            if total + len(body) > budget:
                break
            total += len(body)
            levels.insert(0, Level(n, w, h, len(body)))
            bodies.insert(0, body)
    manifest = Manifest(
        services.engine.name, info.format, info.width, info.height, len(data), tuple(levels)
    )
    # the manifest first: whatever it names can be deleted, even if a put below fails (a
    # render that misses a named copy reads the original)
    storage.put(manifest_ref(ref), manifest.to_json())
    for level, body in zip(levels, bodies, strict=True):
        storage.put(level_ref(ref, level.n), body)
    _remember(storage, ref, manifest)
    if not storage.exists(ref):  # deleted while this ran: leave nothing behind
        delete(storage, ref)
        raise ImageNotFound()
    return manifest


def delete(storage: Storage, ref: ImageRef) -> None:
    """Remove `ref`'s derivatives: the copies its manifest names, then the manifest (one read
    when there is none)."""
    _forget(storage, ref)
    try:
        manifest = Manifest.from_json(storage.get(manifest_ref(ref)))
    except ImageNotFound:
        return
    if manifest is None:  # written by another version: every part it could have named
        numbers = list(range(1, MAX_LEVELS + 1))
    else:
        numbers = [level.n for level in manifest.levels]
    for n in numbers:
        storage.delete(level_ref(ref, n))
    storage.delete(manifest_ref(ref))


# --- Rendering -----------------------------------------------------------------------------

_lock = threading.Lock()
_remembered: WeakKeyDictionary[Storage, OrderedDict[ImageRef, Manifest]] = WeakKeyDictionary()


def _manifests(storage: Storage) -> OrderedDict[ImageRef, Manifest]:
    """The manifests remembered for one storage (a process may hold several)."""
    with _lock:
        known = _remembered.get(storage)
        if known is None:
            known = _remembered[storage] = OrderedDict()
        return known


def _forget(storage: Storage, ref: ImageRef) -> None:
    known = _manifests(storage)
    with _lock:
        known.pop(ref, None)


def _remember(storage: Storage, ref: ImageRef, manifest: Manifest) -> None:
    known = _manifests(storage)
    with _lock:
        known[ref] = manifest
        known.move_to_end(ref)
        if len(known) > _REMEMBERED:
            known.popitem(last=False)


def read_manifest(storage: Storage, ref: ImageRef) -> Manifest | None:
    """`ref`'s manifest (remembered once read), or None while it has none."""
    known = _manifests(storage)
    with _lock:
        manifest = known.get(ref)
    if manifest is not None:
        return manifest
    try:
        manifest = Manifest.from_json(storage.get(manifest_ref(ref)))
    except ImageNotFound:
        return None
    if manifest is not None:
        _remember(storage, ref, manifest)
    return manifest


def note_original(services: Services, ref: ImageRef, info: SourceInfo) -> None:
    """Remember that an original read for a render gets no copies (its bytes never change),
    so later misses do not look for its manifest in storage again (a GET per miss on S3)."""
    if enabled(services) and ref.namespace is Namespace.ORIGINALS and not eligible(info):
        none = Manifest(services.engine.name, info.format, info.width, info.height, 0, ())
        _remember(services.storage, ref, none)


def choose(
    services: Services, ref: ImageRef, plan: Plan, overlays: Overlays | None = None
) -> Chosen | None:
    """The copy to render `plan` (with the `overlays` it names, loaded) from, or None to read
    the original."""
    if not enabled(services) or ref.namespace is not Namespace.ORIGINALS:
        return None
    manifest = read_manifest(services.storage, ref)
    if manifest is None or not manifest.levels or manifest.engine != services.engine.name:
        return None
    settings = services.settings
    limit = settings.max_output_pixels
    resolved = resolve(plan.ops, manifest.width, manifest.height, limit, overlays, plan.hints)
    level = pick(manifest.levels, resolved)
    if level is None:
        return None
    try:
        data = services.storage.get(level_ref(ref, level.n))
    except ImageNotFound:  # deleted since the manifest was read: the original decides
        _forget(services.storage, ref)
        return None
    return Chosen(data, sniff(data), manifest.source_info(), resolved, level)
