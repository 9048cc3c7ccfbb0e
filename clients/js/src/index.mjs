/**
 * @images-server/client: URLs from an image's hash and ops, signed URLs (WebCrypto), and
 * `srcset`, for browsers, Node.js 20+ and edge runtimes. `@images-server/client/node` adds a
 * synchronous signer; `@images-server/client/next` is a Next.js image loader.
 */
export { canonicalMessage, signUrl } from "./signing.mjs";
export {
  MAX_WIDTH,
  escapeArg,
  formatArg,
  imagePath,
  imageUrl,
  opPairs,
  pipeline,
  signedImageUrl,
  signedSrcset,
  srcset,
  widthOps,
} from "./urls.mjs";

export const VERSION = "0.1.0";
