/**
 * The core's promises that a reader can check in the source: Web APIs only outside the
 * runtime adapters, CLI and testing folders; no console output in library code; the
 * version sent in X-Cerberus-Client equals package.json's.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { VERSION } from "../src/version.ts";

const root = new URL("..", import.meta.url).pathname;
const EXEMPT = /^src\/(runtime|cli|testing)\//;

function files(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    return statSync(join(root, rel)).isDirectory() ? files(rel) : rel.endsWith(".ts") ? [rel] : [];
  });
}

describe("core purity", () => {
  const core = files("src").filter((f) => !EXEMPT.test(f)).concat(["mod.ts"]);

  test("the core is not empty", () => {
    assert.ok(core.length > 10);
  });

  for (const file of core) {
    test(`${file} uses Web APIs only`, () => {
      const code = readFileSync(join(root, file), "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
      assert.doesNotMatch(code, /from\s+["']node:|import\(\s*["']node:|require\(/, "no node: import");
      const withoutStrings = code.replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, '""');
      assert.doesNotMatch(withoutStrings, /\bprocess\.|\bDeno\.|\bBun\./, "no runtime global");
      assert.doesNotMatch(code, /console\.(log|error|warn|info|debug)\(/, "no console output");
    });
  }
});

test("outside the CLI and the test stack, no module loads a node: module (types only)", () => {
  for (const file of files("src").filter((f) => !/^src\/(cli|testing)\//.test(f)).concat(["mod.ts"])) {
    const code = readFileSync(join(root, file), "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
    assert.doesNotMatch(code, /import\s+(?!type\b)[^;]*?from\s+["']node:|import\(\s*["']node:|require\(/, file);
  }
});

test("X-Cerberus-Client carries the package.json version", () => {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  assert.equal(VERSION, pkg.version);
});
