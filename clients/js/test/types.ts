// Compiled by `tsc -p tsconfig.json` (never run): the declarations fit their use, and the
// loader fits Next.js's own `ImageLoader` type. `@ts-expect-error` lines must stay errors.
import type { ImageLoader } from "next/image.js";

import { imageUrl, type Ops, signedImageUrl, srcset } from "@images-server/client";
import imagesLoader, { createImagesLoader } from "@images-server/client/next";
import { signer, signUrlSync } from "@images-server/client/node";

const hash = "ab".repeat(32);
const ops: Ops = [["resize", "300x300^"], ["quality", 80]];
const plain: string = imageUrl(hash, ops, { baseUrl: "https://images.example.com" });
const signed: Promise<string> = signedImageUrl(hash, "resize/300x", { key: "k", expiresIn: 60 });
const set: string = srcset(hash, [320, 640], { format: "webp", sign: signer("k", { expiresIn: 3600 }) });
const sync: string = signUrlSync(plain, new Uint8Array([1, 2]));

const loader: ImageLoader = createImagesLoader({ baseUrl: "https://images.example.com" });
const fromFile: ImageLoader = imagesLoader;

// @ts-expect-error: a signed URL needs a key
void signedImageUrl(hash, null, {});
// @ts-expect-error: widths are numbers
srcset(hash, ["640"]);

export { fromFile, loader, set, signed, sync };
