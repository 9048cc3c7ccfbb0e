import type { Ops, Sign } from "./index.js";

/** What `next/image` passes to a loader (its `ImageLoaderProps`). */
export interface ImagesLoaderProps {
  src: string;
  width: number;
  quality?: number;
}

export type ImagesLoader = (props: ImagesLoaderProps) => string;

export interface ImagesLoaderOptions {
  /** The server's URL, e.g. `process.env.NEXT_PUBLIC_IMAGES_URL`; empty: the same origin. */
  baseUrl?: string | null;
  /** `"auto"` (default: AVIF, WebP or the source's, by `Accept`); null: leave it to the ops. */
  format?: string | null;
  /** false (default): `resize/<w>x>`, never wider than the original; true: `resize/<w>x`. */
  enlarge?: boolean;
  /** Ops applied to every image before the width, e.g. `"filter/grayscale"`. */
  ops?: Ops | null;
  /** A synchronous signer (server side only): `signer(key, { expiresIn })` from `/node`. */
  sign?: Sign | null;
}

export function createImagesLoader(options?: ImagesLoaderOptions): ImagesLoader;
/** The loader with `baseUrl` from `NEXT_PUBLIC_IMAGES_URL`: a ready `loaderFile` default export. */
export default function imagesLoader(props: ImagesLoaderProps): string;
