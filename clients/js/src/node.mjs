/**
 * Synchronous signing for Node.js (node:crypto): `signUrlSync`, and `signer`, which makes the
 * `sign` option of `imageUrl` and `srcset` so that server-side rendering can build signed URLs
 * without awaiting. Browsers and edge runtimes use the asynchronous `signUrl` instead.
 */
import { createHmac } from "node:crypto";

import { finishUrl, keyBytes, prepareMessage } from "./signing.mjs";

export * from "./index.mjs";

/** `pathAndQuery` signed with `key`, synchronously; the same string as `signUrl` gives. */
export function signUrlSync(pathAndQuery, key, options = {}) {
  const msg = prepareMessage(pathAndQuery, options);
  return finishUrl(msg, createHmac("sha256", keyBytes(key)).update(msg).digest("base64url"));
}

/**
 * A `sign` option for `imageUrl`/`srcset`: every URL signed with `key`, valid `expiresIn`
 * seconds from when it is built (`now`, unix seconds, pins the clock).
 */
export function signer(key, { expiresIn, now } = {}) {
  return (pathAndQuery) => signUrlSync(pathAndQuery, key, { expiresIn, now });
}
