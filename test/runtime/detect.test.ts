/**
 * src/runtime/detect.ts: which adapter runs where, from the globals alone.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { detectRuntime, detectRuntimeName } from "../../src/runtime/detect.ts";
import { here } from "./_server.ts";

describe("detectRuntimeName", () => {
  it(`names the runtime running the suite (${here})`, () => {
    assert.equal(detectRuntimeName(), here);
  });

  it("tells runtimes apart from their globals", () => {
    const node = { process: { versions: { node: "20.16.0" }, release: { name: "node" } } };
    assert.equal(detectRuntimeName(node), "node");
    assert.equal(detectRuntimeName({ ...node, Bun: { version: "1.4.0" } }), "bun");
    assert.equal(detectRuntimeName({ process: { versions: { node: "24.3.0", bun: "1.4.0" } } }), "bun");
    assert.equal(detectRuntimeName({ ...node, Deno: { version: { deno: "2.9.0" } } }), "deno");
    assert.equal(detectRuntimeName({ ...node, Deno: { version: { deno: "2.9.0" } }, Bun: {} }), "deno", "Deno first");
    assert.equal(detectRuntimeName({}), "edge");
    assert.equal(detectRuntimeName({ navigator: { userAgent: "Mozilla/5.0" } }), "edge");
    assert.equal(detectRuntimeName({ Deno: {} }), "edge", "a Deno without a version is not Deno");
  });

  it("prefers the edge over a nodejs_compat process: Cloudflare Workers and Vercel Edge", () => {
    const compat = { process: { versions: { node: "22.0.0" } } };
    assert.equal(detectRuntimeName({ navigator: { userAgent: "Cloudflare-Workers" }, ...compat }), "edge");
    assert.equal(detectRuntimeName({ EdgeRuntime: "edge-runtime", ...compat }), "edge");
    assert.equal(detectRuntimeName({ EdgeRuntime: {}, ...compat }), "node", "EdgeRuntime must be a string");
  });
});

describe("detectRuntime", () => {
  it("builds the adapter of the runtime running the suite, with its transport and AWS host", () => {
    const runtime = detectRuntime();
    assert.equal(runtime.name, here);
    assert.equal(typeof runtime.env, "function");
    assert.equal(typeof runtime.readTextFile, "function");
    assert.equal(typeof runtime.transport, "function");
    assert.ok(runtime.aws, "Node, Bun and Deno can discover an AWS host");
  });

  it("reads environment variables and UTF-8 files through the detected adapter", async () => {
    const name = `CERBERUS_EDGE_TEST_DETECT_${here.toUpperCase()}`;
    process.env[name] = "from-env ✓";
    const dir = await mkdtemp(join(tmpdir(), "cerberus-edge-detect-"));
    try {
      const runtime = detectRuntime();
      assert.equal(runtime.env(name), "from-env ✓");
      assert.equal(runtime.env(`${name}_UNSET`), undefined);
      await writeFile(join(dir, "token"), "eyJ0b2tlbiI6dHJ1ZX0 ✓\n");
      assert.equal(await runtime.readTextFile(join(dir, "token")), "eyJ0b2tlbiI6dHJ1ZX0 ✓\n");
      await assert.rejects(runtime.readTextFile(join(dir, "missing")));
    } finally {
      delete process.env[name];
      await rm(dir, { recursive: true, force: true });
    }
  });
});
