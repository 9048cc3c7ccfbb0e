/**
 * Sign images-server URLs (docs/api.md §5): one dependency-free ES module for browsers, Node.js
 * 20+, Deno, Bun and edge runtimes, on WebCrypto (`crypto.subtle`). It imports nothing, so it
 * can still be copied alone into a project, as the single-file helper it used to be:
 *
 *   import { signUrl } from "./signing.mjs";
 *   await signUrl("/image/<hash>/resize/200x200%5E?format=webp", "my-key", { expiresIn: 3600 });
 *   // "/image/%3Chash%3E/resize/200x200%5E?expires=...&format=webp&signature=..."
 *
 * The result is the canonical form of the path and query (defined in clients/README.md)
 * followed by `signature=`, the same string the Python client and the server give. `now` is in
 * unix *seconds*, as `expires` is. For a synchronous signer on Node.js, see `./node.mjs`.
 */

const encoder = new TextEncoder();
// ignoreBOM keeps a decoded U+FEFF, as Python's utf-8 codec does; invalid bytes become U+FFFD.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
const HEX = /^[0-9A-Fa-f]{2}$/;

function decode(text, plusIsSpace = false) {
  const bytes = encoder.encode(plusIsSpace ? text.replaceAll("+", " ") : text);
  const out = new Uint8Array(bytes.length);
  let length = 0;
  for (let i = 0; i < bytes.length; i += 1) {
    const hex = String.fromCharCode(bytes[i + 1] ?? 0, bytes[i + 2] ?? 0);
    if (bytes[i] === 0x25 && i + 2 < bytes.length && HEX.test(hex)) {
      out[length++] = parseInt(hex, 16);
      i += 2;
    } else {
      out[length++] = bytes[i];
    }
  }
  return decoder.decode(out.subarray(0, length));
}

function encode(text, keep = "") {
  let out = "";
  for (const byte of encoder.encode(text)) {
    const char = String.fromCharCode(byte);
    const plain = byte < 0x80 && (UNRESERVED.test(char) || keep.includes(char));
    out += plain ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function pairs(query) {
  const result = [];
  for (const field of query.split("&")) {
    if (!field) continue;
    const at = field.indexOf("=");
    const [name, value] = at < 0 ? [field, ""] : [field.slice(0, at), field.slice(at + 1)];
    result.push([decode(name, true), decode(value, true)]);
  }
  return result;
}

const compare = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

function message(path, fields) {
  const encoded = fields
    .map(([name, value]) => [encode(name), encode(value)])
    .filter(([name]) => name !== "signature")
    .sort((a, b) => compare(a[0], b[0]) || compare(a[1], b[1]));
  return `${encode(decode(path), "/")}?${encoded.map(([n, v]) => `${n}=${v}`).join("&")}`;
}

/** The signed message for a percent-encoded path and a query string (without the `?`). */
export function canonicalMessage(path, query) {
  return message(path, pairs(query));
}

/**
 * The canonical message `pathAndQuery` is signed as, with `expires` set from `expiresIn` and
 * `now`: what both signers feed to HMAC-SHA256.
 */
export function prepareMessage(pathAndQuery, { expiresIn, now } = {}) {
  if (!pathAndQuery.startsWith("/") || pathAndQuery.includes("#")) {
    throw new Error("give a URL path starting with '/', without a fragment");
  }
  const at = pathAndQuery.indexOf("?");
  const path = at < 0 ? pathAndQuery : pathAndQuery.slice(0, at);
  let fields = pairs(at < 0 ? "" : pathAndQuery.slice(at + 1));
  if (expiresIn !== undefined && expiresIn !== null) {
    if (!Number.isInteger(expiresIn)) throw new TypeError("expiresIn must be whole seconds");
    const expires = Math.floor(now ?? Date.now() / 1000) + expiresIn;
    fields = fields.filter(([name]) => name !== "expires").concat([["expires", String(expires)]]);
  }
  return message(path, fields);
}

export const keyBytes = (key) => (typeof key === "string" ? encoder.encode(key) : key);

/** A signed URL from its message and its signature. */
export const finishUrl = (msg, signature) =>
  `${msg}${msg.endsWith("?") ? "" : "&"}signature=${signature}`;

function base64url(bytes) {
  const base64 = btoa(String.fromCharCode(...bytes));
  return base64.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * `pathAndQuery` signed with `key` (a string or bytes), with WebCrypto; returns a Promise.
 * Options: `expiresIn` (whole seconds), `now` (unix seconds; default: the current time).
 */
export async function signUrl(pathAndQuery, key, options = {}) {
  const msg = prepareMessage(pathAndQuery, options);
  const algorithm = { name: "HMAC", hash: "SHA-256" };
  const cryptoKey = await globalThis.crypto.subtle.importKey(
    "raw",
    keyBytes(key),
    algorithm,
    false,
    ["sign"],
  );
  const mac = await globalThis.crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(msg));
  return finishUrl(msg, base64url(new Uint8Array(mac)));
}
