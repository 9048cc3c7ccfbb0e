// The signers: WebCrypto (`signUrl`, async) and node:crypto (`signUrlSync`). `clients/vectors.json`
// (vectors.test.mjs) holds them to the Python client's bytes; tests/clients checks the server.
import assert from "node:assert/strict";
import { test } from "node:test";

import { canonicalMessage, signUrl as signUrlAsync } from "../src/signing.mjs";
import { signUrlSync as signUrl } from "../src/node.mjs";

const NOW = 1700000000;

test("the reference vector of clients/README.md", async () => {
  const url = signUrl("/image/abc/resize/200x200%5E?format=webp&a=b+c", "k", {
    expiresIn: 60,
    now: NOW,
  });
  assert.equal(
    url,
    "/image/abc/resize/200x200%5E?a=b%20c&expires=1700000060&format=webp" +
      "&signature=LwMOd9zL-AcCVRqYDp3EI4SAB3KERGUx7nnSDmFlfGY",
  );
  const options = { expiresIn: 60, now: NOW };
  assert.equal(await signUrlAsync("/image/abc/resize/200x200%5E?format=webp&a=b+c", "k", options), url);
});

test("the async WebCrypto signer agrees with the node:crypto one", async () => {
  const inputs = ["/image/x", "/image/x/resize/10%25?size=thumb", "/external?url=a%2Fb&b=%F0%9F%98%80"];
  for (const input of inputs) {
    for (const options of [{}, { expiresIn: 30, now: NOW }]) {
      assert.equal(await signUrlAsync(input, "key", options), signUrl(input, "key", options));
    }
  }
});

test("a path is decoded once and encoded with only unreserved characters and /", () => {
  assert.equal(canonicalMessage("/image/h/resize/200x200^", ""), "/image/h/resize/200x200%5E?");
  assert.equal(canonicalMessage("/image/h/resize/200x200%5e", ""), "/image/h/resize/200x200%5E?");
  assert.equal(canonicalMessage("/a/500x500!/b+c/%2541", ""), "/a/500x500%21/b%2Bc/%2541?");
  assert.equal(canonicalMessage("/caf\u00e9 x/~._-", ""), "/caf%C3%A9%20x/~._-?");
  assert.equal(canonicalMessage("/%zz/%4", ""), "/%25zz/%254?");
  assert.equal(canonicalMessage("/%EF%BB%BF%C3(", ""), "/%EF%BB%BF%EF%BF%BD%28?");
});

test("query fields are decoded as a form, then encoded and sorted by name, then value", () => {
  assert.equal(canonicalMessage("/p", "b=2&a=2&a=10&c"), "/p?a=10&a=2&b=2&c=");
  assert.equal(canonicalMessage("/p", "q=a+b%20c%2B&&x=%E2%82%AC"), "/p?q=a%20b%20c%2B&x=%E2%82%AC");
  assert.equal(canonicalMessage("/p", "k=v=w&signature=zz&e="), "/p?e=&k=v%3Dw");
  assert.equal(canonicalMessage("/p", "%F0%9F%98%80=1&\uff21=2"), "/p?%EF%BC%A1=2&%F0%9F%98%80=1");
});

test("an existing signature is dropped and expiresIn replaces expires", () => {
  const url = signUrl("/p?expires=1&signature=old&x=1", "key", { expiresIn: 5, now: NOW + 0.9 });
  assert.match(url, /^\/p\?expires=1700000005&x=1&signature=[A-Za-z0-9_-]{43}$/);
  assert.match(signUrl("/p?expires=9", "key"), /^\/p\?expires=9&signature=/);
});

test("keys may be strings or bytes, and rotate into different signatures", () => {
  const bytes = new TextEncoder().encode("k\u00e9y");
  assert.equal(signUrl("/p", bytes), signUrl("/p", "k\u00e9y"));
  assert.notEqual(signUrl("/p", "old"), signUrl("/p", "new"));
});

test("bad inputs are refused", async () => {
  assert.throws(() => signUrl("image/x", "k"), /starting with/);
  assert.throws(() => signUrl("/image/x#top", "k"), /fragment/);
  assert.throws(() => signUrl("/image/x", "k", { expiresIn: 1.5 }), TypeError);
  await assert.rejects(signUrlAsync("/image/x", "k", { expiresIn: "60" }), TypeError);
});
