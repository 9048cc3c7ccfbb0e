/**
 * Build images-server URLs from an image's hash and a pipeline of ops (docs/api.md §3).
 *
 * Ops are written as the server reads them, unescaped (`"resize/300x300^"`, or pairs such as
 * `[["crop", "smart400x300"]]`); each argument is escaped for the URL: every byte but
 * `A-Z a-z 0-9 - . _ ~ + @` becomes `%` and two uppercase hex digits, so `!`, `^`, `%`, `>` and
 * `<` are `%21`, `%5E`, `%25`, `%3E` and `%3C` as the server expects. Query fields keep only
 * `A-Z a-z 0-9 - . _ ~`. The Python client builds the same bytes (`clients/vectors.json`).
 */
import { signUrl } from "./signing.mjs";

const encoder = new TextEncoder();
const HASH = /^[0-9a-f]{64}$/;
const OP_NAME = /^[a-z][a-z0-9_-]{0,31}$/;
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
const ARG_SAFE = /^[A-Za-z0-9\-._~+@]$/;
export const MAX_WIDTH = 65535;

function encode(text, safe) {
  let out = "";
  for (const byte of encoder.encode(text)) {
    const char = String.fromCharCode(byte);
    out += byte < 0x80 && safe.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** An op's argument as it goes in the URL: `300x300^` is `300x300%5E`, `50%` is `50%25`. */
export function escapeArg(arg) {
  return encode(arg, ARG_SAFE);
}

/** An argument as text: strings as given, numbers as JavaScript writes them (`2`, `1.5`). */
export function formatArg(value) {
  if (typeof value === "string") return value;
  if (typeof value !== "number") throw new TypeError(`an op argument is a string or a number, not ${String(value)}`);
  if (!Number.isFinite(value)) throw new RangeError("an op argument must be a finite number");
  return String(value);
}

/** `ops` (a `"name/arg/…"` string or `[name, arg]` pairs) as checked `[name, arg]` pairs. */
export function opPairs(ops) {
  if (ops === undefined || ops === null) return [];
  let pairs;
  if (typeof ops === "string") {
    const text = ops.replace(/^\/+|\/+$/g, "");
    if (!text) return [];
    const parts = text.split("/");
    if (parts.length % 2) throw new Error(`every op takes one argument: "${ops}" has an odd number of parts`);
    pairs = [];
    for (let i = 0; i < parts.length; i += 2) pairs.push([parts[i], parts[i + 1]]);
  } else {
    pairs = ops;
  }
  return pairs.map(([name, arg]) => {
    const text = formatArg(arg);
    if (typeof name !== "string" || !OP_NAME.test(name)) throw new Error(`bad op name ${JSON.stringify(name)}`);
    if (!text) throw new Error(`op "${name}" needs an argument`);
    if (text.includes("/")) throw new Error(`op "${name}": an argument cannot hold '/' ("${text}")`);
    return [name, text];
  });
}

/** The URL path of `ops`, escaped: `resize/300x300%5E/format/webp`. */
export function pipeline(ops) {
  return opPairs(ops)
    .map(([name, arg]) => `${name}/${escapeArg(arg)}`)
    .join("/");
}

function queryString(query) {
  if (!query) return "";
  const items = Array.isArray(query) ? query : Object.entries(query);
  return items
    .map(([name, value]) => `${encode(name, UNRESERVED)}=${encode(formatArg(value), UNRESERVED)}`)
    .join("&");
}

/** `/image/<hash>[/<ops>][?<query>]`, unsigned; a hash that is not 64 lowercase hex throws. */
export function imagePath(hash, ops, { query } = {}) {
  if (typeof hash !== "string" || !HASH.test(hash)) {
    throw new Error(`not an image hash (64 lowercase hex digits): ${JSON.stringify(hash)}`);
  }
  let path = `/image/${hash}`;
  const opsPath = pipeline(ops);
  if (opsPath) path += `/${opsPath}`;
  const qs = queryString(query);
  return qs ? `${path}?${qs}` : path;
}

const join = (baseUrl, path) => (baseUrl ?? "").replace(/\/+$/, "") + path;

/**
 * The URL of an image through `ops`. Options: `query`, `baseUrl`, and `sign`, a synchronous
 * function from path to signed path (`signer(key, { expiresIn })` from `./node.mjs`).
 */
export function imageUrl(hash, ops, { query, baseUrl = "", sign } = {}) {
  const path = imagePath(hash, ops, { query });
  return join(baseUrl, sign ? sign(path) : path);
}

/** The same URL signed with `key` on WebCrypto (browsers, Node.js, edge): a Promise. */
export async function signedImageUrl(hash, ops, { query, baseUrl = "", key, expiresIn, now } = {}) {
  if (key === undefined || key === null) throw new Error("signedImageUrl needs a key");
  return join(baseUrl, await signUrl(imagePath(hash, ops, { query }), key, { expiresIn, now }));
}

function checkWidth(width) {
  if (!Number.isInteger(width) || width < 1 || width > MAX_WIDTH) {
    throw new RangeError(`a width is a whole number of pixels from 1 to ${MAX_WIDTH}: ${String(width)}`);
  }
  return width;
}

/**
 * `ops`, then `resize/<width>x` (`resize/<width>x>` with `enlarge: false`: never wider than
 * the original), then `quality/<q>` and `format/<f>` when given.
 */
export function widthOps(ops, width, { quality, format, enlarge = true } = {}) {
  const pairs = [...opPairs(ops), ["resize", `${checkWidth(width)}x${enlarge ? "" : ">"}`]];
  if (quality !== undefined && quality !== null) pairs.push(["quality", quality]);
  if (format !== undefined && format !== null) pairs.push(["format", format]);
  return opPairs(pairs);
}

function candidates(widths) {
  const list = [...widths];
  if (!list.length) throw new Error("a srcset needs at least one width");
  return list;
}

/**
 * A `srcset` value: `<url> <w>w` per width, joined with `, `; each URL is `ops`, then
 * `resize/<w>x`, `quality`, `format`. Options: `ops`, `format`, `quality`, `enlarge` (true;
 * false: `resize/<w>x>`, never wider than the original), `query`, `baseUrl`, `sign` (as for
 * `imageUrl`).
 */
export function srcset(hash, widths, { ops, format, quality, enlarge, query, baseUrl = "", sign } = {}) {
  return candidates(widths)
    .map((width) => `${imageUrl(hash, widthOps(ops, width, { quality, format, enlarge }), { query, baseUrl, sign })} ${width}w`)
    .join(", ");
}

/** `srcset` with every URL signed on WebCrypto: a Promise. Options add `key`, `expiresIn`, `now`. */
export async function signedSrcset(hash, widths, { ops, format, quality, enlarge, query, baseUrl = "", key, expiresIn, now } = {}) {
  const list = candidates(widths);
  const urls = await Promise.all(
    list.map((width) =>
      signedImageUrl(hash, widthOps(ops, width, { quality, format, enlarge }), { query, baseUrl, key, expiresIn, now }),
    ),
  );
  return urls.map((url, i) => `${url} ${list[i]}w`).join(", ");
}
