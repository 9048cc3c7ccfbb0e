// The URL builder: escaping, numbers, checks.
import assert from "node:assert/strict";
import { test } from "node:test";

import { escapeArg, imagePath, imageUrl, opPairs, pipeline, srcset, VERSION } from "../src/index.mjs";

const H = "ab".repeat(32);

test("arguments are escaped as the server expects", () => {
  assert.equal(escapeArg("300x300^"), "300x300%5E");
  assert.equal(escapeArg("300x300!"), "300x300%21");
  assert.equal(escapeArg("50%"), "50%25");
  assert.equal(escapeArg("1x1>"), "1x1%3E");
  assert.equal(escapeArg("1x1<"), "1x1%3C");
  assert.equal(escapeArg("10x10+1+2"), "10x10+1+2");
  assert.equal(escapeArg("@4000"), "@4000");
  assert.equal(escapeArg("a b#?&é"), "a%20b%23%3F%26%C3%A9");
});

test("ops come as a string or as pairs, numbers written as JavaScript writes them", () => {
  assert.equal(pipeline("/resize/300x/format/webp/"), "resize/300x/format/webp");
  assert.equal(pipeline([["rotate", -90], ["dpr", 1.5], ["blur", 2.0]]), "rotate/-90/dpr/1.5/blur/2");
  assert.deepEqual(opPairs(""), []);
  assert.equal(imagePath(H), `/image/${H}`);
  assert.equal(imageUrl(H, null, { baseUrl: "https://x.example//" }), `https://x.example/image/${H}`);
});

test("bad input is refused before a URL is built", () => {
  assert.throws(() => imagePath("AB".repeat(32)), /image hash/);
  assert.throws(() => imagePath(H.slice(1)), /image hash/);
  assert.throws(() => pipeline("resize/300x/format"), /odd number/);
  assert.throws(() => pipeline("Resize/300x"), /bad op name/);
  assert.throws(() => pipeline([["resize", ""]]), /needs an argument/);
  assert.throws(() => pipeline([["crop", "a/b"]]), /cannot hold/);
  assert.throws(() => pipeline([["blur", Number.NaN]]), RangeError);
  assert.throws(() => pipeline([["blur", true]]), TypeError);
  assert.throws(() => srcset(H, []), /at least one width/);
  assert.throws(() => srcset(H, [0]), RangeError);
  assert.throws(() => srcset(H, [640.5]), RangeError);
});

test("srcset: one candidate per width, a sign function signs each", () => {
  const sign = (path) => `${path}?signed`;
  assert.equal(
    srcset(H, [100, 200], { format: "webp", sign }),
    `/image/${H}/resize/100x/format/webp?signed 100w, /image/${H}/resize/200x/format/webp?signed 200w`,
  );
  assert.equal(srcset(H, new Set([50]), { enlarge: false }), `/image/${H}/resize/50x%3E 50w`);
});

test("the version is the package's", async () => {
  const { readFile } = await import("node:fs/promises");
  const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8"));
  assert.equal(VERSION, pkg.version);
});
