#!/usr/bin/env node
/**
 * `npm run build`: empties dist/, runs tsup (tsup.config.ts), names the vendored file's
 * declarations `.d.mts` (tsup cannot), and checks what the bundles may contain:
 * - dist/core.js, dist/mod.js (and their chunks) and dist/cerberus-edge.vendor.mjs: no `require(`,
 *   no `Buffer`, no `node:` module in any form; the single file imports nothing at all and starts
 *   with its `@ts-self-types` directive and the licence notices of what it inlines;
 * - dist/cli.js starts with a shebang and is executable.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
rmSync(dist, { recursive: true, force: true });

const tsup = join(root, "node_modules", ".bin", process.platform === "win32" ? "tsup.cmd" : "tsup");
const result = spawnSync(tsup, [], { cwd: root, stdio: "inherit", shell: process.platform === "win32" });
if (result.status !== 0) process.exit(result.status ?? 1);

renameSync(join(dist, "cerberus-edge.vendor.d.ts"), join(dist, "cerberus-edge.vendor.d.mts"));

const problems = [];
const read = (name) => readFileSync(join(dist, name), "utf8");

/** A bundle any runtime and any bundler takes as it is: no node: module, no require, no Buffer. */
function checkPure(name) {
  const code = read(name);
  if (/\brequire\(/.test(code)) problems.push(`${name}: contains require(`);
  if (/\bBuffer\b/.test(code)) problems.push(`${name}: mentions Buffer`);
  for (const m of code.matchAll(/(import\s*\(\s*|from\s*|import\s*)["'`](node:[\w/]+)["'`]/g)) {
    problems.push(`${name}: ${m[1].trim()}"${m[2]}"`);
  }
  const bare = code.match(/from\s*["'](?:http|https|zlib|fs|buffer|crypto|stream)["']/);
  if (bare) problems.push(`${name}: bare builtin ${bare[0]}`);
}

// The core and universal entries and every chunk they import, transitively.
const libraryFiles = new Set();
const visit = (name) => {
  if (libraryFiles.has(name)) return;
  libraryFiles.add(name);
  // Static, side-effect and dynamic imports alike (a module loaded on first use is still the library).
  for (const m of read(name).matchAll(/(?:from|import)\s*\(?\s*["']\.\/([\w.-]+\.js)["']/g)) visit(m[1]);
};
visit("core.js");
visit("mod.js");
for (const name of libraryFiles) {
  checkPure(name);
  if (/startLocalStack|createKmsService/.test(read(name))) {
    problems.push(`${name}: the testing stack leaked into the library`);
  }
}
const vendor = read("cerberus-edge.vendor.mjs");
checkPure("cerberus-edge.vendor.mjs");
const vendorCode = vendor.replace(/\/\*[\s\S]*?\*\//g, "");
if (/^\s*(import|export\s.*\sfrom)\s/m.test(vendorCode) || /\bimport\s*\(/.test(vendorCode)) {
  problems.push("vendor: imports something");
}
if (!vendor.startsWith('// @ts-self-types="./cerberus-edge.vendor.d.mts"')) {
  problems.push("vendor: no @ts-self-types directive on line 1");
}
for (
  const notice of ["aws4fetch (MIT", "valibot (MIT", "@smithy/util-base64 (Apache-2.0", "Permission is hereby granted"]
) {
  if (!vendor.includes(notice)) problems.push(`vendor: the banner lacks "${notice}"`);
}

const cli = read("cli.js");
if (!cli.startsWith("#!/usr/bin/env node\n")) problems.push("cli.js: no shebang on line 1");
if ((cli.match(/^#!/gm) ?? []).length !== 1) problems.push("cli.js: more than one shebang");
if (process.platform !== "win32") {
  chmodSync(join(dist, "cli.js"), statSync(join(dist, "cli.js")).mode | 0o111);
}

for (
  const name of [
    "mod.js",
    "mod.cjs",
    "mod.d.ts",
    "mod.d.cts",
    "core.js",
    "core.cjs",
    "core.d.ts",
    "core.d.cts",
    "testing.js",
    "testing.cjs",
    "testing.d.ts",
    "testing.d.cts",
    "cli.js",
    "cerberus-edge.vendor.mjs",
    "cerberus-edge.vendor.d.mts",
  ]
) {
  if (!existsSync(join(dist, name))) problems.push(`missing dist/${name}`);
}

if (problems.length) {
  console.error(`\nbuild checks failed:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
const files = readdirSync(dist).sort();
console.log(`\nbuild checks passed (${files.length} files in dist/; library = ${[...libraryFiles].join(" + ")})`);
