/**
 * A Next.js image loader: `next/image` asks it for one URL per width of its `srcset`.
 *
 *   // image-loader.js, named by `images.loaderFile` in next.config.js
 *   "use client";
 *   import { createImagesLoader } from "@images-server/client/next";
 *   export default createImagesLoader({ baseUrl: process.env.NEXT_PUBLIC_IMAGES_URL });
 *
 * `src` is an image's hash, optionally followed by ops (`<hash>/crop/smart1600x900`), or the
 * same after `/image/` or after the server's full URL (the upload's `url`). The URL is the ops,
 * then `resize/<width>x>` (shrink only: a width past the original's is served at the original
 * size, never upscaled; `enlarge: true` drops the `>`), `quality/<q>` when Next passes one,
 * then `format/auto` (AVIF, WebP or the source's, by the browser's `Accept`).
 */
import { imageUrl, opPairs, widthOps } from "./urls.mjs";

const HASH_AT_START = /^[0-9a-f]{64}(?=\/|$)/;

function parseSrc(src, baseUrl) {
  let rest = String(src);
  const base = (baseUrl ?? "").replace(/\/+$/, "");
  if (base && rest.startsWith(`${base}/`)) rest = rest.slice(base.length);
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(rest)) rest = new URL(rest).pathname;
  rest = rest.replace(/^\/+/, "").replace(/^image\//, "");
  const match = HASH_AT_START.exec(rest);
  if (!match) throw new Error(`images loader: src must start with an image hash: ${JSON.stringify(src)}`);
  return { hash: match[0], ops: rest.slice(match[0].length) };
}

/**
 * A loader for `next/image`'s `loader` prop or `images.loaderFile`. Options: `baseUrl` (the
 * server's URL; empty: the same origin), `format` (`"auto"`; `null` leaves the format to the
 * ops), `enlarge` (false), `ops` (applied before the width, e.g. `"filter/grayscale"`), and
 * `sign`, a synchronous function from path to signed path (server components only: a key in
 * browser code is public).
 */
export function createImagesLoader({ baseUrl = "", format = "auto", enlarge = false, ops, sign } = {}) {
  return function imagesLoader({ src, width, quality }) {
    const parsed = parseSrc(src, baseUrl);
    const pipe = [...opPairs(parsed.ops), ...opPairs(ops)];
    const pairs = widthOps(pipe, width, { quality, format: format || undefined, enlarge });
    return imageUrl(parsed.hash, pairs, { baseUrl, sign });
  };
}

function envBaseUrl() {
  try {
    return process.env.NEXT_PUBLIC_IMAGES_URL ?? "";
  } catch {
    return ""; // no `process`: a browser build that did not inline the variable
  }
}

/**
 * The loader with `baseUrl` from `NEXT_PUBLIC_IMAGES_URL`, read at each call, so that a
 * `loaderFile` can be just `export { default } from "@images-server/client/next";`.
 */
export default function imagesLoader(props) {
  return createImagesLoader({ baseUrl: envBaseUrl() })(props);
}
