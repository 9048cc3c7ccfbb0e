import type { Key, Sign, SignOptions } from "./index.js";

export * from "./index.js";

/** `pathAndQuery` signed with `key`, synchronously (node:crypto). */
export function signUrlSync(pathAndQuery: string, key: Key, options?: SignOptions): string;
/** A `sign` option for `imageUrl`, `srcset` and the Next.js loader. */
export function signer(key: Key, options?: SignOptions): Sign;
