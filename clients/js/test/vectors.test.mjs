// clients/vectors.json: the Python client builds the same bytes (tests/clients), and the server
// accepts every URL (tests/clients/test_vectors.py). Both signers must give each one.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { createImagesLoader } from "../src/next.mjs";
import { imageUrl, signedImageUrl, signedSrcset, signer, srcset } from "../src/node.mjs";

const vectors = JSON.parse(readFileSync(new URL("../../vectors.json", import.meta.url), "utf8"));

test("the vectors are there", () => {
  assert.ok(vectors.urls.length >= 10);
  assert.ok(vectors.urls.filter((v) => v.key !== null).length >= 4);
  assert.ok(vectors.srcsets.length >= 3);
  assert.ok(vectors.next_loader.length >= 5);
});

test("every url vector, unsigned or signed with both signers", async () => {
  for (const v of vectors.urls) {
    const options = { query: v.query, baseUrl: v.base_url };
    if (v.key === null) {
      assert.equal(imageUrl(v.hash, v.ops, options), v.url, v.name);
      continue;
    }
    const timing = { expiresIn: v.expires_in, now: v.now };
    assert.equal(imageUrl(v.hash, v.ops, { ...options, sign: signer(v.key, timing) }), v.url, v.name);
    assert.equal(await signedImageUrl(v.hash, v.ops, { ...options, key: v.key, ...timing }), v.url, v.name);
    assert.ok(v.url.endsWith(`&signature=${v.signature}`) || v.url.endsWith(`?signature=${v.signature}`));
  }
});

test("every srcset vector", async () => {
  for (const v of vectors.srcsets) {
    const options = { ops: v.ops, format: v.format, quality: v.quality, enlarge: v.enlarge, baseUrl: v.base_url };
    if (v.key === null) {
      assert.equal(srcset(v.hash, v.widths, options), v.srcset, v.name);
      continue;
    }
    const timing = { expiresIn: v.expires_in, now: v.now };
    assert.equal(srcset(v.hash, v.widths, { ...options, sign: signer(v.key, timing) }), v.srcset, v.name);
    assert.equal(await signedSrcset(v.hash, v.widths, { ...options, key: v.key, ...timing }), v.srcset, v.name);
  }
});

test("every Next.js loader vector", () => {
  for (const v of vectors.next_loader) {
    const { base_url: baseUrl, ...rest } = v.options;
    const loader = createImagesLoader({ baseUrl, ...rest });
    const props = { src: v.src, width: v.width, ...(v.quality === null ? {} : { quality: v.quality }) };
    assert.equal(loader(props), v.url, v.name);
  }
});
