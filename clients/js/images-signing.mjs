/**
 * Sign images-server URLs: one dependency-free ES module for Node.js 18+ and browsers.
 *
 *   import { signUrl, signUrlAsync } from "./images-signing.mjs";
 *   signUrl("/image/<hash>/resize/200x200%5E?format=webp", "my-key", { expiresIn: 3600 });
 *   // "/image/%3Chash%3E/resize/200x200%5E?expires=...&format=webp&signature=..."
 *
 * `signUrl` is synchronous and uses node:crypto (Node.js only); `signUrlAsync` uses WebCrypto
 * (`crypto.subtle`), found in browsers, Deno, Bun and Node.js. Both return the canonical form of
 * the path and query (defined in clients/README.md) followed by `signature=`, the same string
 * the Python helper returns. `now` is in unix *seconds*, as `expires` is.
 */

let nodeCrypto = null;
try {
  nodeCrypto = await import("node:crypto");
} catch {
  nodeCrypto = null; // not Node.js: only signUrlAsync is available
}

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

function prepare(pathAndQuery, { expiresIn, now } = {}) {
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

const keyBytes = (key) => (typeof key === "string" ? encoder.encode(key) : key);
const finish = (msg, signature) => `${msg}${msg.endsWith("?") ? "" : "&"}signature=${signature}`;

/**
 * `pathAndQuery` signed with `key` (a string or bytes), synchronously, with node:crypto.
 * Options: `expiresIn` (whole seconds), `now` (unix seconds; default: the current time).
 */
export function signUrl(pathAndQuery, key, options = {}) {
  if (nodeCrypto === null) throw new Error("signUrl needs node:crypto: use signUrlAsync");
  const msg = prepare(pathAndQuery, options);
  const hmac = nodeCrypto.createHmac("sha256", keyBytes(key)).update(msg);
  return finish(msg, hmac.digest("base64url"));
}

/** The same as `signUrl`, with WebCrypto: works in browsers too; returns a Promise. */
export async function signUrlAsync(pathAndQuery, key, options = {}) {
  const msg = prepare(pathAndQuery, options);
  const algorithm = { name: "HMAC", hash: "SHA-256" };
  const subtle = globalThis.crypto?.subtle ?? nodeCrypto.webcrypto.subtle;
  const cryptoKey = await subtle.importKey("raw", keyBytes(key), algorithm, false, ["sign"]);
  const mac = new Uint8Array(await subtle.sign("HMAC", cryptoKey, encoder.encode(msg)));
  const base64 = btoa(String.fromCharCode(...mac));
  return finish(msg, base64.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, ""));
}
