// The loader through Next.js's own `getImageProps` (next/image): its real width selection,
// `sizes` parsing and srcset assembly call our loader, as `<Image loader>` and `loaderFile` do.
import assert from "node:assert/strict";
import { test } from "node:test";

import { getImageProps } from "next/image.js";

import imagesLoader, { createImagesLoader } from "../src/next.mjs";
import { signer } from "../src/node.mjs";

const H = "0123456789abcdef".repeat(4);
const BASE = "https://images.example.com";
const url = (w, q = 75, ops = "") => `${BASE}/image/${H}${ops}/resize/${w}x%3E${q ? `/quality/${q}` : ""}/format/auto`;

function quietly(run) {
  // Next warns (console.warn/error) about a loader that ignores the width and other misuse.
  const said = [];
  const { warn, error } = console;
  console.warn = (...args) => said.push(args.join(" "));
  console.error = (...args) => said.push(args.join(" "));
  try {
    return run();
  } finally {
    Object.assign(console, { warn, error });
    assert.deepEqual(said, []);
  }
}

test("a fixed width: 1x and 2x from Next's default sizes", () => {
  const loader = createImagesLoader({ baseUrl: BASE });
  const { props } = quietly(() => getImageProps({ src: H, alt: "A valley", width: 300, height: 200, quality: 75, loader }));
  assert.equal(props.srcSet, `${url(384)} 1x, ${url(640)} 2x`);
  assert.equal(props.src, url(640));
  assert.equal(props.width, 300);
  assert.equal(props.sizes, undefined);
});

test("sizes: every width from the smallest vw share up, as w descriptors", () => {
  const loader = createImagesLoader({ baseUrl: BASE });
  const sizes = "(max-width: 768px) 100vw, 50vw";
  const { props } = quietly(() =>
    getImageProps({ src: `${H}/crop/smart1600x900`, alt: "", fill: true, sizes, quality: 75, loader }),
  );
  // Next's defaults: deviceSizes 640…3840 and imageSizes 32…384; 50vw keeps those >= 320.
  const widths = [384, 640, 750, 828, 1080, 1200, 1920, 2048, 3840];
  assert.equal(props.srcSet, widths.map((w) => `${url(w, 75, "/crop/smart1600x900")} ${w}w`).join(", "));
  assert.equal(props.src, url(3840, 75, "/crop/smart1600x900"));
  assert.equal(props.sizes, sizes);
});

test("no width and no sizes: the device sizes, and no quality when Next passes none", () => {
  const { props } = quietly(() => getImageProps({ src: H, alt: "", fill: true, loader: createImagesLoader({ baseUrl: BASE }) }));
  const widths = [640, 750, 828, 1080, 1200, 1920, 2048, 3840];
  assert.equal(props.srcSet, widths.map((w) => `${url(w, null)} ${w}w`).join(", "));
  assert.equal(props.sizes, "100vw");
});

test("the default export reads NEXT_PUBLIC_IMAGES_URL, as a loaderFile needs", () => {
  const before = process.env.NEXT_PUBLIC_IMAGES_URL;
  process.env.NEXT_PUBLIC_IMAGES_URL = `${BASE}/`;
  try {
    const { props } = quietly(() =>
      getImageProps({ src: `${BASE}/image/${H}`, alt: "", width: 64, height: 64, quality: 75, loader: imagesLoader }),
    );
    assert.equal(props.srcSet, `${url(64)} 1x, ${url(128)} 2x`);
  } finally {
    if (before === undefined) delete process.env.NEXT_PUBLIC_IMAGES_URL;
    else process.env.NEXT_PUBLIC_IMAGES_URL = before;
  }
  assert.equal(imagesLoader({ src: H, width: 16 }), `/image/${H}/resize/16x%3E/format/auto`);
});

test("signed on the server, with a sync signer", () => {
  const loader = createImagesLoader({ baseUrl: BASE, sign: signer("k", { expiresIn: 60, now: 1700000000 }) });
  const { props } = quietly(() => getImageProps({ src: H, alt: "", width: 100, height: 100, loader }));
  const candidates = props.srcSet.split(", ");
  assert.equal(candidates.length, 2);
  for (const candidate of candidates) {
    assert.match(candidate, /\/resize\/\d+x%3E\/format\/auto\?expires=1700000060&signature=[\w-]{43} [12]x$/);
  }
});

test("a src that is not an image hash is refused", () => {
  const loader = createImagesLoader({ baseUrl: BASE });
  assert.throws(() => loader({ src: "/photos/cat.jpg", width: 640 }), /image hash/);
  assert.throws(() => loader({ src: `${H}/resize`, width: 640 }), /odd number/);
  assert.throws(() => loader({ src: H, width: 0 }), RangeError);
});
