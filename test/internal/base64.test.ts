/**
 * src/internal/base64.ts: strict, canonical base64 for payloads that cross the network.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { runProcess } from "../runtime/_process.ts";
import { decodeBase64, isBase64 } from "../../src/internal/base64.ts";
import { bytes, utf8 } from "./_helpers.ts";

describe("base64", () => {
  it("accepts canonical padded standard base64", () => {
    for (const ok of ["aGVsbG8=", "aGk=", "YWJj", "+/+/", "AAAA"]) assert.equal(isBase64(ok), true, ok);
  });

  it("refuses empty, unpadded, url-safe, whitespace and junk", () => {
    for (
      const bad of ["", "aGVsbG8", "aGk", "-_-_", "aGVs bG8=", "aGVsbG8=\n", "aGVsbG8==", "a===", "====", "not base64!"]
    ) {
      assert.equal(isBase64(bad), false, JSON.stringify(bad));
    }
  });

  it("decodes every byte value", async () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    assert.deepEqual(await decodeBase64(btoa(String.fromCharCode(...all))), all);
    assert.equal(utf8(await decodeBase64("aGVsbG8=")), "hello");
    assert.deepEqual(await decodeBase64("AAAA"), bytes("\0\0\0"));
  });

  it("@smithy/util-base64 (Node's one CommonJS package here) loads on the first decode, not with the library", async () => {
    // A Node child from every runtime: what is measured is Node's module cache.
    const node = "Bun" in globalThis || "Deno" in globalThis ? "node" : process.execPath;
    const dir = await mkdtemp(join(tmpdir(), "cerberus-edge-base64-"));
    try {
      const script = join(dir, "lazy.mts");
      const src = (path: string) => JSON.stringify(new URL(`../../src/${path}`, import.meta.url).href);
      await writeFile(
        script,
        [
          `import { createRequire } from "node:module";`,
          `const cache = createRequire(import.meta.url).cache;`,
          `const loaded = () => Object.keys(cache).some((path) => path.includes("@smithy"));`,
          `await import(${src("core.ts")});`,
          `const { decodeBase64 } = await import(${src("internal/base64.ts")});`,
          `const before = loaded();`,
          `const bytes = await decodeBase64("AAAA");`,
          `console.log(JSON.stringify({ before, after: loaded(), length: bytes.length }));`,
        ].join("\n"),
      );
      const root = fileURLToPath(new URL("../..", import.meta.url));
      const { code, stdout, stderr } = await runProcess(node, ["--import", "tsx", script], root, {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
      });
      assert.equal(code, 0, stderr);
      assert.deepEqual(JSON.parse(stdout.trim()), { before: false, after: true, length: 3 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
