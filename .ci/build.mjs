#!/usr/bin/env node
/**
 * `npm run build`: empties dist/, runs tsup (tsup.config.ts), names the vendored file's
 * declarations `.d.mts` (tsup cannot), and checks what the bundles may contain:
 * - dist/core.js and dist/cerberus-edge.vendor.mjs: no `require(`, no `Buffer`, and no `node:`
 *   module except the Node adapter's lazy `import("node:…")`;
 * - dist/cli.js starts with a shebang and is executable.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
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
/** The lazy imports the Node adapter is allowed to keep. */
const LAZY = new Set(["node:http", "node:https", "node:zlib", "node:stream", "node:fs/promises"]);

function checkPure(name, { allowLazyNode }) {
  const code = read(name);
  if (/\brequire\(/.test(code)) problems.push(`${name}: contains require(`);
  if (/\bBuffer\b/.test(code)) problems.push(`${name}: mentions Buffer`);
  for (const m of code.matchAll(/(import\s*\(\s*|from\s*|import\s*)["'](node:[\w/]+)["']/g)) {
    const lazy = /^import\s*\(/.test(m[1]) && LAZY.has(m[2]);
    if (!lazy || !allowLazyNode) problems.push(`${name}: ${m[1].trim()}"${m[2]}"`);
  }
  const bare = code.match(/from\s*["'](?:http|https|zlib|fs|buffer|crypto|stream)["']/);
  if (bare) problems.push(`${name}: bare builtin ${bare[0]}`);
}

// The core entry and every chunk it imports, transitively.
const coreFiles = new Set();
const visit = (name) => {
  if (coreFiles.has(name)) return;
  coreFiles.add(name);
  for (const m of read(name).matchAll(/from\s*["']\.\/([\w.-]+\.js)["']/g)) visit(m[1]);
};
visit("core.js");
for (const name of coreFiles) {
  checkPure(name, { allowLazyNode: false });
  if (/startLocalStack|createKmsService/.test(read(name))) problems.push(`${name}: the testing stack leaked into the core`);
}
checkPure("cerberus-edge.vendor.mjs", { allowLazyNode: true });
for (const dep of ["aws4fetch", "valibot", "@smithy/"]) {
  if (new RegExp(`from\\s*["']${dep}`).test(read("cerberus-edge.vendor.mjs"))) problems.push(`vendor: ${dep} not inlined`);
}

const cli = read("cli.js");
if (!cli.startsWith("#!/usr/bin/env node\n")) problems.push("cli.js: no shebang on line 1");
if ((cli.match(/^#!/gm) ?? []).length !== 1) problems.push("cli.js: more than one shebang");
if (process.platform !== "win32") {
  chmodSync(join(dist, "cli.js"), statSync(join(dist, "cli.js")).mode | 0o111);
}

for (const name of ["mod.js", "mod.cjs", "mod.d.ts", "mod.d.cts", "core.js", "core.cjs", "core.d.ts", "core.d.cts",
  "testing.js", "testing.cjs", "testing.d.ts", "testing.d.cts", "cli.js", "cerberus-edge.vendor.mjs", "cerberus-edge.vendor.d.mts"]) {
  if (!existsSync(join(dist, name))) problems.push(`missing dist/${name}`);
}

if (problems.length) {
  console.error(`\nbuild checks failed:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
const files = readdirSync(dist).sort();
console.log(`\nbuild checks passed (${files.length} files in dist/; core = ${[...coreFiles].join(" + ")})`);
