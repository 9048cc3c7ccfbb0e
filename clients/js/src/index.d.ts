/** An op argument: a string as the server reads it (`"300x300^"`), or a number. */
export type Arg = string | number;
/** A pipeline: `"resize/300x300^/format/webp"`, or `[name, arg]` pairs. */
export type Ops = string | ReadonlyArray<readonly [string, Arg]>;
/** Query fields: `[name, value]` pairs (order kept) or an object. */
export type Query = ReadonlyArray<readonly [string, Arg]> | Readonly<Record<string, Arg>>;
/** A key: the first of the server's `IMAGES_SECRET_KEY`, as a string or its bytes. */
export type Key = string | Uint8Array;
/** A synchronous signer: from an unsigned path and query to the signed one. */
export type Sign = (pathAndQuery: string) => string;

export interface SignOptions {
  /** Lifetime in whole seconds: sets `expires` = floor(now) + expiresIn. */
  expiresIn?: number | null;
  /** Unix seconds; default: the current time. */
  now?: number | null;
}

export interface UrlOptions {
  query?: Query | null;
  /** The server's URL, e.g. `"https://images.example.com"`; default: none (a path). */
  baseUrl?: string | null;
  sign?: Sign | null;
}

export interface SignedUrlOptions extends SignOptions {
  query?: Query | null;
  baseUrl?: string | null;
  key: Key;
}

export interface WidthOptions {
  quality?: number | null;
  format?: string | null;
  /** true (default): `resize/<w>x`; false: `resize/<w>x>`, never wider than the original. */
  enlarge?: boolean;
}

export interface SrcsetOptions extends WidthOptions, UrlOptions {
  ops?: Ops | null;
}

export interface SignedSrcsetOptions extends WidthOptions, SignedUrlOptions {
  ops?: Ops | null;
}

export const MAX_WIDTH: 65535;
export const VERSION: string;

/** The signed message for a percent-encoded path and a query string (without the `?`). */
export function canonicalMessage(path: string, query: string): string;
/** `pathAndQuery` signed with `key` on WebCrypto: the canonical path and query, then `signature=`. */
export function signUrl(pathAndQuery: string, key: Key, options?: SignOptions): Promise<string>;

export function escapeArg(arg: string): string;
export function formatArg(value: Arg): string;
export function opPairs(ops: Ops | null | undefined): Array<[string, string]>;
export function pipeline(ops: Ops | null | undefined): string;
export function imagePath(hash: string, ops?: Ops | null, options?: { query?: Query | null }): string;
export function imageUrl(hash: string, ops?: Ops | null, options?: UrlOptions): string;
export function signedImageUrl(hash: string, ops: Ops | null | undefined, options: SignedUrlOptions): Promise<string>;
export function widthOps(ops: Ops | null | undefined, width: number, options?: WidthOptions): Array<[string, string]>;
export function srcset(hash: string, widths: Iterable<number>, options?: SrcsetOptions): string;
export function signedSrcset(hash: string, widths: Iterable<number>, options: SignedSrcsetOptions): Promise<string>;
