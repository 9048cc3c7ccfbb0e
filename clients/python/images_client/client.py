"""`ImagesClient`: a server's base URL and signing key, kept once for every URL and upload."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from images_client.html import Quality, picture
from images_client.upload import Source, Upload, upload
from images_client.urls import Ops, Query, image_url, srcset

__all__ = ["ImagesClient"]


class ImagesClient:
    """URLs of one server, signed when it has a `key` (the first of `IMAGES_SECRET_KEY`), each
    valid `expires_in` seconds from when it is built (None: no expiry); `api_key` is for
    uploads. `clock` gives unix seconds (tests pin it)."""

    def __init__(
        self,
        base_url: str,
        *,
        key: str | bytes | None = None,
        expires_in: int | None = None,
        api_key: str | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if expires_in is not None and key is None:
            raise ValueError("expires_in needs a key: an expiry is part of the signature")
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.expires_in = expires_in
        self.api_key = api_key
        self.clock = clock

    def _now(self) -> float | None:
        return None if self.clock is None else self.clock()

    def url(self, hash_: str, ops: Ops = None, *, query: Query = None) -> str:
        """The image through `ops`: `client.url(h, "resize/300x300^/format/webp")`."""
        return image_url(
            hash_,
            ops,
            query=query,
            base_url=self.base_url,
            key=self.key,
            expires_in=self.expires_in,
            now=self._now(),
        )

    def srcset(
        self,
        hash_: str,
        widths: Iterable[int],
        ops: Ops = None,
        *,
        format: str | None = None,
        quality: int | None = None,
        enlarge: bool = True,
        query: Query = None,
    ) -> str:
        """`<url> <w>w, …` for each width: `ops`, then `resize/<w>x`, `quality`, `format`."""
        return srcset(
            hash_,
            widths,
            ops,
            format=format,
            quality=quality,
            enlarge=enlarge,
            query=query,
            base_url=self.base_url,
            key=self.key,
            expires_in=self.expires_in,
            now=self._now(),
        )

    def picture(
        self,
        hash_: str,
        widths: Sequence[int],
        ops: Ops = None,
        *,
        alt: str,
        formats: Sequence[str] = ("avif", "webp", "jpeg"),
        sizes: str = "100vw",
        width: int | None = None,
        height: int | None = None,
        loading: str | None = "lazy",
        decoding: str | None = "async",
        fetchpriority: str | None = None,
        quality: Quality = None,
        attrs: Mapping[str, str] | None = None,
    ) -> str:
        """A `<picture>` with a `<source>` per format but the last, which is the `<img>`."""
        return picture(
            hash_,
            widths,
            ops,
            alt=alt,
            formats=formats,
            sizes=sizes,
            width=width,
            height=height,
            loading=loading,
            decoding=decoding,
            fetchpriority=fetchpriority,
            quality=quality,
            attrs=attrs,
            base_url=self.base_url,
            key=self.key,
            expires_in=self.expires_in,
            now=self._now(),
        )

    def upload(
        self,
        source: Source,
        *,
        filename: str | None = None,
        public: bool | None = None,
        attempts: int = 4,
        backoff: float = 0.5,
        max_delay: float = 30.0,
        timeout: float = 60.0,
    ) -> Upload:
        """`POST /upload` with this client's `api_key`, retried on 429, 503 and lost
        connections (`images_client.upload`)."""
        return upload(
            self.base_url,
            source,
            api_key=self.api_key,
            filename=filename,
            public=public,
            attempts=attempts,
            backoff=backoff,
            max_delay=max_delay,
            timeout=timeout,
        )
