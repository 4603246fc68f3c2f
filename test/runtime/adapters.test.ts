/**
 * src/runtime/bun.ts, deno.ts and edge.ts with fake globals, their transports on the runtime's
 * `fetch` (the local stack's, swapped in), and file errors through `readSettingFile`.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { awsHost } from "../../src/aws/host.ts";
import { InvalidInputError } from "../../src/errors.ts";
import { readSettingFile } from "../../src/internal/files.ts";
import { bunRuntime } from "../../src/runtime/bun.ts";
import { denoRuntime } from "../../src/runtime/deno.ts";
import { edgeRuntime } from "../../src/runtime/edge.ts";
import type { RuntimeEnvironment } from "../../src/runtime/types.ts";
import { createLocalStack } from "../../src/testing/mod.ts";
import type { TransportInit } from "../../src/transport.ts";
import { readAll, rejection, utf8 } from "../internal/_helpers.ts";
import { here } from "./_server.ts";

const realFetch = globalThis.fetch;

/** Points the global `fetch` at the in-memory stack for one test, and records what it was given. */
function stackAsFetch() {
  const stack = createLocalStack();
  const calls: { url: string; init: TransportInit }[] = [];
  globalThis.fetch = ((url: string, init: TransportInit) => {
    calls.push({ url, init });
    return stack.transport(url, init);
  }) as typeof fetch;
  return { stack, calls };
}

/** The runtime's transport reaches the global fetch (looked up when called, not when built). */
async function assertTransportIsFetch(runtime: RuntimeEnvironment): Promise<void> {
  const { stack, calls } = stackAsFetch();
  const signal = new AbortController().signal;
  const init: TransportInit = { method: "GET", headers: { Accept: "application/json" }, redirect: "manual", signal };
  const response = await runtime.transport(`${stack.cerberus}/healthcheck`, init);
  assert.equal(response.status, 200);
  assert.ok(response.body);
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.url, `${stack.cerberus}/healthcheck`);
  assert.equal(calls[0]!.init, init, "init is passed as it is");
}

const leaky = () => new Error("first line of the file: s3cr3t-token");

describe("bun adapter (fake Bun global)", () => {
  afterEach(() => {
    globalThis.fetch = realFetch;
  });

  const files: Record<string, string> = { "/t": "file text ✓" };
  const bun = bunRuntime({
    env: { A: "1", EMPTY: "", B: undefined },
    file: (path) => ({
      text: () => {
        const text = files[path];
        return text === undefined
          ? Promise.reject(Object.assign(new Error(`ENOENT ${path}`), { code: "ENOENT" }))
          : Promise.resolve(text);
      },
    }),
  });

  it("is named bun and has the AWS host", () => {
    assert.equal(bun.name, "bun");
    assert.equal(bun.aws, awsHost);
  });

  it("reads Bun.env: strings only", () => {
    assert.equal(bun.env("A"), "1");
    assert.equal(bun.env("EMPTY"), "");
    assert.equal(bun.env("B"), undefined);
    assert.equal(bun.env("MISSING"), undefined);
  });

  it("reads files with Bun.file().text(); a failure keeps its code for readSettingFile", async () => {
    assert.equal(await bun.readTextFile("/t"), "file text ✓");
    const error = await rejection(
      readSettingFile(bun.readTextFile, "/u", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "credentials"),
    );
    assert.ok(error instanceof InvalidInputError);
    assert.equal(error.message, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: cannot read /u: ENOENT");
  });

  it("what Bun said about a file is never copied into the error", async () => {
    const leaking = bunRuntime({ env: {}, file: () => ({ text: () => Promise.reject(leaky()) }) });
    const error = await rejection(readSettingFile(leaking.readTextFile, "/run/token", "VAR", "config"));
    assert.ok(error instanceof InvalidInputError);
    assert.equal(error.message, "VAR: cannot read /run/token: read failed");
  });

  it("sends through the global fetch", () => assertTransportIsFetch(bun));

  it("refuses to be built outside Bun", { skip: here === "bun" && "this is Bun" }, () => {
    assert.throws(() => bunRuntime(), /bunRuntime\(\) needs the Bun global: this is not Bun/);
  });
});

describe("deno adapter (fake Deno global)", () => {
  afterEach(() => {
    globalThis.fetch = realFetch;
  });

  it("is named deno and has the AWS host", () => {
    const deno = denoRuntime({ env: { get: () => undefined }, readTextFile: () => Promise.resolve("") });
    assert.equal(deno.name, "deno");
    assert.equal(deno.aws, awsHost);
  });

  it("reads Deno.env.get: strings only", () => {
    const deno = denoRuntime({
      env: { get: (n) => (n === "A" ? "1" : n === "ODD" ? (42 as unknown as string) : undefined) },
      readTextFile: () => Promise.resolve(""),
    });
    assert.equal(deno.env("A"), "1");
    assert.equal(deno.env("B"), undefined);
    assert.equal(deno.env("ODD"), undefined);
  });

  it("a variable the process may not read counts as unset (NotCapable, PermissionDenied, a refused name)", () => {
    for (const name of ["NotCapable", "PermissionDenied", "TypeError"]) {
      const deno = denoRuntime({
        env: {
          get: () => {
            throw Object.assign(new Error(`Requires env access to "AWS_REGION"`), { name });
          },
        },
        readTextFile: () => Promise.resolve(""),
      });
      assert.equal(deno.env("AWS_REGION"), undefined, name);
    }
  });

  it("reads files with Deno.readTextFile; Deno's error names reach readSettingFile, its messages do not", async () => {
    const notFound = denoRuntime({
      env: { get: () => undefined },
      readTextFile: () =>
        Promise.reject(Object.assign(new Error("No such file (os error 2): readfile '/t'"), { name: "NotFound" })),
    });
    const error = await rejection(readSettingFile(notFound.readTextFile, "/t", "VAR", "config"));
    assert.ok(error instanceof InvalidInputError);
    assert.equal(error.message, "VAR: cannot read /t: NotFound");
    const leaking = denoRuntime({ env: { get: () => undefined }, readTextFile: () => Promise.reject(leaky()) });
    assert.equal(
      ((await rejection(readSettingFile(leaking.readTextFile, "/t", "VAR", "config"))) as Error).message,
      "VAR: cannot read /t: read failed",
    );
    const ok = denoRuntime({
      env: { get: () => undefined },
      readTextFile: (path) => Promise.resolve(`text of ${path}`),
    });
    assert.equal(await ok.readTextFile("/x"), "text of /x");
  });

  it("sends through the global fetch", () =>
    assertTransportIsFetch(denoRuntime({ env: { get: () => undefined }, readTextFile: () => Promise.resolve("") })));

  it("refuses to be built outside Deno", { skip: here === "deno" && "this is Deno" }, () => {
    assert.throws(() => denoRuntime(), /denoRuntime\(\) needs the Deno global: this is not Deno/);
  });
});

describe("edge adapter", () => {
  afterEach(() => {
    globalThis.fetch = realFetch;
  });

  it("has no environment, no files and no AWS host", async () => {
    const edge = edgeRuntime();
    assert.equal(edge.name, "edge");
    assert.equal(edge.env("HOME"), undefined);
    assert.equal(edge.env("PATH"), undefined);
    assert.equal(edge.aws, undefined);
    const error = await rejection(edge.readTextFile("/etc/hostname"));
    assert.match((error as Error).message, /no file system/);
    const setting = await rejection(readSettingFile(edge.readTextFile, "/etc/hostname", "VAR", "config"));
    assert.ok(setting instanceof InvalidInputError);
    assert.equal(setting.message, "VAR: cannot read /etc/hostname: read failed");
  });

  it("sends through the global fetch", () => assertTransportIsFetch(edgeRuntime()));

  it("the real fetch of this runtime is a transport: a loopback round trip to the stack", async () => {
    const { startLocalStack } = await import("../../src/testing/mod.ts");
    const stack = await startLocalStack();
    try {
      const response = await edgeRuntime().transport(`${stack.cerberus}/healthcheck`, {
        method: "GET",
        headers: {},
        redirect: "manual",
      });
      assert.equal(response.status, 200);
      const body = await readAll(response, 64 * 1024);
      assert.ok(utf8(body).length > 0);
    } finally {
      await stack.close();
    }
  });
});
