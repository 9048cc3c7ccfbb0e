"""The spine: one Flask-free path from an image and a plan to response bytes.

    plan ──► cache.get(key) ─ hit ──────────────────────────────────────────► Rendered
                            └ miss ─► storage.get ─► sniff ─► resolve sizes ─► engine.render
                                                                         ─► cache.put ─► Rendered

A cache hit never touches storage or the engine, nor the render rate limit, nor the render
gate; concurrent misses of one variant render it once (`caches.flight`: the others wait for
that render, at most the render timeout, then render themselves). A miss counts against the
caller's `client` (when given) before storage is read, then takes one of the process's render
slots (`images_server.admission`: `503 overloaded` when none frees in time). The engine runs
within the render deadline (`engines.deadline.finish_within`), which answers `503
render_timeout` on time even when an encoder cannot be stopped. A miss whose plan starts by
shrinking to at most 1/1.25 of one of the original's derivatives (1/2 when it sharpens) reads
that copy instead of the original (`derivatives.choose`: same sizes, same key). The images
`overlay` ops name, and the server's watermark (appended to every plan, so it is part of every
key), are read on a miss only (`render_overlays`). Every caller (`/image`, `/external`, later
presets and jobs) comes through `render`.

A JPEG asked for as `format/jxl` with nothing that changes its pixels (no op, no quality, no
byte budget, no watermark) is recompressed losslessly (`engines.jxl_encode.transcode_jpeg`)
rather than decoded: about 20% smaller, every pixel the JPEG's, and the JPEG rebuildable bit
for bit. It is the stripped JPEG that is recompressed, so no Exif or XMP survives but the
orientation tag `strip` writes back."""

from __future__ import annotations

from dataclasses import dataclass

from images_server import admission, derivatives
from images_server.caches.base import CachedFile, CachedResult, CacheKey, hands_files
from images_server.caches.flight import single_flight
from images_server.engines import jxl_encode
from images_server.engines.base import MAX_SIDE, Output, keeps_animation
from images_server.engines.deadline import Deadline, finish_within
from images_server.engines.quality import AUTO
from images_server.errors import InvalidPipeline, OutputTooLarge
from images_server.formats import MEDIA_TYPES, served_format, svg
from images_server.formats.sniff import SourceInfo, sniff
from images_server.formats.strip import strip_metadata
from images_server.hashing import ImageRef
from images_server.observability.metrics import count_cache_lookup
from images_server.observability.tracing import engine_stages, span, stage
from images_server.pipeline.adjust import Trim
from images_server.pipeline.ops import Crop, OutputFormat
from images_server.pipeline.plan import Plan
from images_server.pipeline.steps import Resolved, resolve
from images_server.render_overlays import load_overlays, watermarked
from images_server.services import Services

# Bump when a change in this code changes output pixels, so stale variants are not served.
RENDER_REVISION = "r6"


@dataclass(frozen=True)
class Rendered:
    # The bytes, or a hit of a cache of files (caches.base.FileHits) still as its open file,
    # which http/responses.py sends without reading it (sendfile, X-Accel-Redirect).
    content: bytes | CachedFile
    media_type: str
    etag: str  # unquoted, strong: the output is a pure function of what it is made of

    @property
    def body(self) -> bytes:
        """The bytes (a cached file's are read now)."""
        return self.content if isinstance(self.content, bytes) else self.content.read()


def cache_key(services: Services, ref: ImageRef, plan: Plan) -> CacheKey:
    version = f"{RENDER_REVISION}/{services.engine.version}"
    if plan.max_bytes is not None and services.settings.maxbytes_resize:
        version += "/shrink-to-fit"  # a budget may answer smaller: not the same variant
    return CacheKey(ref, plan.variant(version))


def _etag(key: CacheKey) -> str:
    return f"{key.image.hash[:16]}-{key.variant[:24]}"


def _refuse_impossible(
    services: Services, plan: Plan, info: SourceInfo, resolved: Resolved, fmt: OutputFormat
) -> None:
    """400 for what no engine may attempt: sizes the format cannot hold, animations larger
    in all than the output limit, a smart crop that would follow each frame's content."""
    if max(resolved.width, resolved.height) > MAX_SIDE[fmt]:
        raise OutputTooLarge(
            f"{resolved.width}x{resolved.height} is larger than {fmt} can hold "
            f"({MAX_SIDE[fmt]} pixels a side)"
        )
    if fmt == "jxl" and resolved.width * resolved.height > jxl_encode.MAX_PIXELS:
        raise OutputTooLarge(
            f"{resolved.width}x{resolved.height} is more than the JPEG XL encoder's limit of "
            f"{jxl_encode.MAX_PIXELS} pixels (its memory grows with the area)"
        )
    if not keeps_animation(info, fmt):
        return
    total = resolved.width * resolved.height * info.frames
    if total > services.settings.max_output_pixels:
        raise OutputTooLarge(
            f"{info.frames} frames of {resolved.width}x{resolved.height} are more than the "
            f"output limit of {services.settings.max_output_pixels} pixels"
        )
    for op in plan.ops:
        if isinstance(op, Trim):
            raise InvalidPipeline(
                f"'{op.segment()}': each frame of an animation would find its own box; "
                "add format/png to trim the first frame"
            )
        if isinstance(op, Crop) and op.geometry.gravity in ("smart", "face"):
            raise InvalidPipeline(
                f"'{op.segment()}': a smart crop cannot follow the content of every frame "
                "of an animation; crop with a gravity, or add format/png for one frame"
            )


def _output(services: Services, plan: Plan, info: SourceInfo, resolved: Resolved) -> Output:
    output_format = plan.output_format(served_format(info.format, info.has_alpha))
    _refuse_impossible(services, plan, info, resolved, output_format)
    plan.check_budget(output_format)  # maxbytes on a PNG or GIF source kept as it is
    quality = plan.output_quality(output_format)
    searched = plan.auto_quality or plan.max_bytes is not None
    return Output(
        output_format,
        quality,
        background=plan.background,
        progressive=services.settings.jpeg_progressive,
        lossless=output_format == "webp" and quality == 100 and not searched,
        auto_quality=plan.auto_quality and output_format in AUTO,
        max_bytes=plan.max_bytes,
        shrink_to_fit=services.settings.maxbytes_resize,
    )


@dataclass(frozen=True)
class _Source:
    data: bytes  # what the engine decodes: the original, or one of its derivatives
    info: SourceInfo  # its header (a derivative's is upright: orientation 1)
    original: SourceInfo  # the original's header: the output format and limits follow it
    resolved: Resolved  # the plan, resolved against the original's size


def _source(services: Services, ref: ImageRef, plan: Plan, data: bytes | None) -> _Source:
    """The smallest derivative that serves `plan` with the same sizes (derivatives.py), else
    the original (`data`, when already read)."""
    overlays = load_overlays(services, plan)
    if data is None:
        with stage("load", services.engine.name):  # one load: a copy, else the original
            chosen = derivatives.choose(services, ref, plan, overlays)
            if chosen is not None:
                svg.refuse_disabled(chosen.original, services.settings.svg_enabled)
                return _Source(chosen.data, chosen.info, chosen.original, chosen.resolved)
            data = services.storage.get(ref)
    info = sniff(data)
    svg.refuse_disabled(info, services.settings.svg_enabled)
    derivatives.note_original(services, ref, info)
    limit = services.settings.max_output_pixels
    resolved = resolve(plan.ops, info.width, info.height, limit, overlays, plan.hints)
    return _Source(data, info, info, resolved)


def _compute(services: Services, source: _Source, plan: Plan) -> CachedResult:
    settings = services.settings
    data, info, resolved = source.data, source.info, source.resolved
    output = _output(services, plan, source.original, resolved)
    release = admission.gate().admit()  # only now: refused requests cost no decode
    deadline = Deadline(settings.render_timeout)

    def engine_render() -> bytes:
        if _recompresses(plan, info, output):
            return jxl_encode.transcode_jpeg(strip_metadata(data, info) or data)
        with engine_stages(services.engine.name):  # decode_ops, and encode inside the engine
            return services.engine.render(data, info, resolved, output, deadline)

    body = finish_within(deadline, engine_render, then=release)
    return CachedResult(body, MEDIA_TYPES[output.format])


def _recompresses(plan: Plan, info: SourceInfo, output: Output) -> bool:
    """Whether the output is the JPEG source recompressed losslessly as JPEG XL: nothing in
    the plan changes a pixel, and no quality asks for a smaller, lossy file."""
    unchanged = not plan.ops and plan.quality is None and not plan.quality_drop
    return info.format == "jpeg" and output.format == "jxl" and unchanged and not output.max_bytes


def render(services: Services, ref: ImageRef, plan: Plan, client: str | None = None) -> Rendered:
    """The rendered variant; a cache miss first counts against `client`'s render limit."""
    plan = watermarked(services.settings, plan)
    with span("render", **{"images.hash": ref.hash, "images.engine": services.engine.name}):
        return _render(services, ref, plan, client)


def _load(services: Services, ref: ImageRef) -> bytes:
    with stage("load", services.engine.name):
        return services.storage.get(ref)


def _render(services: Services, ref: ImageRef, plan: Plan, client: str | None) -> Rendered:
    key = cache_key(services, ref, plan)
    data = None
    if plan.is_identity:  # the original, without its metadata (docs/api.md §5)
        data = _load(services, ref)
        info = sniff(data)
        svg.refuse_disabled(info, services.settings.svg_enabled)
        stripped = strip_metadata(data, info)
        if stripped is not None:
            return Rendered(stripped, MEDIA_TYPES[info.format], _etag(key))
        # cannot strip losslessly, or not a web format: re-encode, cached
        plan = plan.with_format(served_format(info.format, info.has_alpha))
        key = cache_key(services, ref, plan)
    with span("cache.get"):
        cache = services.cache
        hit = cache.open(key) if hands_files(cache) else cache.get(key)
    count_cache_lookup(hit is not None)
    if hit is not None:
        content = hit if isinstance(hit, CachedFile) else hit.body
        return Rendered(content, hit.media_type, _etag(key))
    if client is not None:
        services.limiter.check("render", client)

    def compute() -> CachedResult:
        result = _compute(services, _source(services, ref, plan, data), plan)
        with span("cache.put"):
            services.cache.put(key, result)
        return result

    # Concurrent misses of this key (in this process, and in others where the cache can lock
    # a key) wait for one render, at most the render timeout (caches/flight.py).
    result = single_flight(services.cache, key, compute, services.settings.render_timeout)
    return Rendered(result.body, result.media_type, _etag(key))
