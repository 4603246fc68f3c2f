/**
 * Runtime adapters: detection, environment and file reads, and the node:http transport.
 * Portable: runs unchanged under `node --test`, `bun test` and `deno test`.
 * All network traffic stays on 127.0.0.1.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

import { CerberusEdgeError } from "../src/errors.ts";
import { systemClock } from "../src/clock.ts";
import { send } from "../src/transport.ts";
import { bunRuntime } from "../src/runtime/bun.ts";
import { denoRuntime } from "../src/runtime/deno.ts";
import { detectRuntime, detectRuntimeName, type RuntimeName } from "../src/runtime/detect.ts";
import { edgeRuntime } from "../src/runtime/edge.ts";
import { createNodeTransport, nodeRuntime, nodeTransport } from "../src/runtime/node.ts";
import { startLocalStack } from "../src/testing/mod.ts";

const g = globalThis as { Deno?: unknown; Bun?: unknown };
/** The runtime running this file, found independently of the code under test. */
const here: RuntimeName = typeof g.Deno !== "undefined"
  ? "deno"
  : typeof g.Bun !== "undefined"
  ? "bun"
  : "node";
const root = fileURLToPath(new URL("..", import.meta.url));

// ---------------------------------------------------------------------------------------
// Detection

describe("detectRuntime", () => {
  it(`detects the runtime running the suite (${here})`, () => {
    assert.equal(detectRuntimeName(), here);
    const runtime = detectRuntime();
    assert.equal(runtime.name, here);
    assert.equal(typeof runtime.env, "function");
    assert.equal(typeof runtime.readTextFile, "function");
    assert.equal(typeof runtime.transport, "function");
  });

  it("tells runtimes apart from their globals", () => {
    const node = { process: { versions: { node: "20.0.0" }, release: { name: "node" } } };
    assert.equal(detectRuntimeName(node), "node");
    assert.equal(detectRuntimeName({ ...node, Bun: { version: "1.4.0" } }), "bun");
    assert.equal(detectRuntimeName({ process: { versions: { node: "24.3.0", bun: "1.4.0" } } }), "bun");
    assert.equal(detectRuntimeName({ ...node, Deno: { version: { deno: "2.9.0" } } }), "deno");
    assert.equal(detectRuntimeName({}), "edge");
    assert.equal(detectRuntimeName({ navigator: { userAgent: "Mozilla/5.0" } }), "edge");
  });

  it("prefers Workers over a nodejs_compat process", () => {
    const workerd = { navigator: { userAgent: "Cloudflare-Workers" }, process: { versions: { node: "22.0.0" } } };
    assert.equal(detectRuntimeName(workerd), "edge");
    assert.equal(detectRuntimeName({ EdgeRuntime: "edge-runtime", process: { versions: { node: "20.0.0" } } }), "edge");
  });

  it("refuses to build a Bun or Deno adapter elsewhere", () => {
    if (here !== "bun") assert.throws(() => bunRuntime(), /not Bun/);
    if (here !== "deno") assert.throws(() => denoRuntime(), /not Deno/);
  });
});

// ---------------------------------------------------------------------------------------
// Environment and files

describe("environment and files", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "cerberus-edge-runtime-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads environment variables through the detected adapter", () => {
    const name = `CERBERUS_EDGE_TEST_${here.toUpperCase()}_VAR`;
    process.env[name] = "from-env ✓";
    try {
      assert.equal(detectRuntime().env(name), "from-env ✓");
      assert.equal(detectRuntime().env(`${name}_UNSET`), undefined);
    } finally {
      delete process.env[name];
    }
  });

  it("reads a UTF-8 token file through the detected adapter", async () => {
    const path = join(dir, "token");
    await writeFile(path, "eyJ0b2tlbiI6dHJ1ZX0 ✓\n");
    assert.equal(await detectRuntime().readTextFile(path), "eyJ0b2tlbiI6dHJ1ZX0 ✓\n");
    assert.equal(await nodeRuntime().readTextFile(path), "eyJ0b2tlbiI6dHJ1ZX0 ✓\n");
  });

  it("reports a missing file as a CerberusEdgeError naming the path", async () => {
    const path = join(dir, "missing");
    for (const runtime of [detectRuntime(), nodeRuntime()]) {
      const error = await runtime.readTextFile(path).then(() => assert.fail("should reject"), (e: unknown) => e);
      assert.ok(error instanceof CerberusEdgeError, `${runtime.name}: ${String(error)}`);
      assert.equal(error.code, "FILE_READ_ERROR");
      assert.equal(error.step, "config");
      assert.match(error.message, /^cannot read .*missing: (ENOENT|NotFound)$/);
    }
  });

  it("never copies what the runtime said about a file into the error", async () => {
    const leaky = new Error("first line of the file: s3cr3t-token");
    const bun = bunRuntime({ env: {}, file: () => ({ text: () => Promise.reject(leaky) }) });
    const deno = denoRuntime({ env: { get: () => undefined }, readTextFile: () => Promise.reject(leaky) });
    for (const runtime of [bun, deno]) {
      const error = await runtime.readTextFile("/run/token").then(() => assert.fail("should reject"), (e: unknown) => e);
      assert.ok(error instanceof CerberusEdgeError);
      assert.equal(error.message, "cannot read /run/token: read failed");
      assert.doesNotMatch(error.message, /s3cr3t/);
    }
  });

  it("bun adapter: Bun.env and Bun.file", async () => {
    const files: Record<string, string> = { "/t": "file text" };
    const bun = bunRuntime({
      env: { A: "1", B: undefined },
      file: (path) => ({ text: async () => files[path] ?? Promise.reject(Object.assign(new Error("x"), { code: "ENOENT" })) }),
    });
    assert.equal(bun.name, "bun");
    assert.equal(bun.env("A"), "1");
    assert.equal(bun.env("B"), undefined);
    assert.equal(await bun.readTextFile("/t"), "file text");
    await assert.rejects(bun.readTextFile("/u"), { code: "FILE_READ_ERROR", message: "cannot read /u: ENOENT" });
  });

  it("deno adapter: a permission error reads as unset, other errors propagate", () => {
    const deny = (name: string) => () => {
      throw Object.assign(new Error(`Requires env access to "X"`), { name });
    };
    const denied = (name: string) => denoRuntime({ env: { get: deny(name) }, readTextFile: () => Promise.resolve("") });
    assert.equal(denied("NotCapable").env("AWS_REGION"), undefined);
    assert.equal(denied("PermissionDenied").env("AWS_REGION"), undefined);
    assert.throws(() => denied("Interrupted").env("AWS_REGION"), /Requires env access/);
    const ok = denoRuntime({ env: { get: (n) => (n === "A" ? "1" : undefined) }, readTextFile: () => Promise.resolve("") });
    assert.equal(ok.name, "deno");
    assert.equal(ok.env("A"), "1");
    assert.equal(ok.env("B"), undefined);
  });

  it("deno adapter under real Deno without --allow-env/--allow-read", async () => {
    const script = [
      `import { denoRuntime } from ${JSON.stringify(new URL("../src/runtime/deno.ts", import.meta.url).href)};`,
      `const rt = denoRuntime();`,
      `const read = await rt.readTextFile("/etc/hostname").then(() => "read", (e) => e.code + ":" + e.message);`,
      `console.log(JSON.stringify({ home: rt.env("HOME") ?? null, read }));`,
    ].join("\n");
    const file = join(dir, "deno-permissions.ts");
    await writeFile(file, script);
    const deno = join(root, "node_modules", ".bin", "deno");
    // `deno run` grants nothing by default (unlike `deno eval`): no env, no read.
    const { code, stdout, stderr } = await run(deno, ["run", "--no-check", "--no-prompt", file], {
      DENO_NO_UPDATE_CHECK: "1",
      NO_COLOR: "1",
    });
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout.trim()) as { home: string | null; read: string };
    assert.equal(result.home, null);
    assert.match(result.read, /^FILE_READ_ERROR:cannot read \/etc\/hostname: (NotCapable|PermissionDenied)$/);
  });

  it("a Deno process with only --allow-net=127.0.0.1 and a scoped --allow-env reads a secret", async () => {
    const stack = await startLocalStack();
    try {
      const defaults = stack.defaults!;
      const credentials = stack.seed.roleCredentials(defaults.roles.app.arn);
      const env: Record<string, string> = {
        CERBERUS_URL: stack.cerberus,
        AWS_REGION: defaults.region,
        AWS_ENDPOINT_URL_KMS: stack.kms,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        ...(credentials.sessionToken ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
      };
      const script = [
        `import { createCerberusClient, kmsAuth, detectRuntime } from ${JSON.stringify(new URL("../mod.ts", import.meta.url).href)};`,
        `const cerberus = createCerberusClient({ url: Deno.env.get("CERBERUS_URL"), auth: kmsAuth({ principalArn: ${JSON.stringify(defaults.roles.app.arn)} }) });`,
        `const data = await cerberus.readSecret(${JSON.stringify(defaults.secretPath)});`,
        `console.log(JSON.stringify({ runtime: detectRuntime().name, data }));`,
      ].join("\n");
      const file = join(dir, "deno-narrow.ts");
      await writeFile(file, script);
      const deno = join(root, "node_modules", ".bin", "deno");
      const { code, stdout, stderr } = await run(deno, [
        "run",
        "--no-check",
        "--no-prompt",
        `--config=${join(root, "deno.json")}`,
        "--allow-net=127.0.0.1",
        `--allow-env=${Object.keys(env).join(",")}`,
        file,
      ], { ...env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" });
      assert.equal(code, 0, stderr);
      assert.deepEqual(JSON.parse(stdout.trim()), { runtime: "deno", data: defaults.secret });
    } finally {
      await stack.close();
    }
  });

  it("edge adapter: only explicit vars, no files", async () => {
    const edge = edgeRuntime({ CERBERUS_URL: "http://127.0.0.1:1" });
    assert.equal(edge.name, "edge");
    assert.equal(edge.env("CERBERUS_URL"), "http://127.0.0.1:1");
    assert.equal(edge.env("HOME"), undefined);
    await assert.rejects(edge.readTextFile("/etc/hostname"), { code: "UNSUPPORTED" });
  });
});

// ---------------------------------------------------------------------------------------
// The node:http transport

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface TestServer {
  url: string;
  connections: number;
  sockets: Set<Socket>;
  close(): Promise<void>;
}

async function startServer(handler: Handler): Promise<TestServer> {
  const server: Server = createServer(handler);
  server.keepAliveTimeout = 30_000;
  const state = { connections: 0, sockets: new Set<Socket>() };
  server.on("connection", (socket: Socket) => {
    state.connections++;
    state.sockets.add(socket);
    socket.on("close", () => state.sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return state.connections;
    },
    sockets: state.sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of state.sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += String(chunk)));
    child.stderr.on("data", (chunk) => (stderr += String(chunk)));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("node transport (node:http) on loopback", () => {
  let server: TestServer;
  let hits: Record<string, number> = {};
  let received: { method?: string; headers?: IncomingMessage["headers"]; body?: Buffer } = {};
  let closedEarly: Promise<void> = Promise.resolve();
  let signalClosed: () => void = () => {};
  const transport = createNodeTransport();
  // The abort and timeout tests use a fresh transport each (a fresh connection): Deno's
  // node:http client re-sends a request destroyed on a reused keep-alive socket.
  const binary = new Uint8Array(256 * 1024).map((_, i) => (i * 7 + 3) & 0xff);

  before(async () => {
    server = await startServer((req, res) => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      hits[path] = (hits[path] ?? 0) + 1;
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", async () => {
        received = { method: req.method, headers: req.headers, body: Buffer.concat(chunks) };
        switch (path) {
          case "/echo":
            res.writeHead(201, "Made It", [
              ["content-type", "application/json"],
              ["x-multi", "a"],
              ["x-multi", "b"],
              ["set-cookie", "a=1"],
              ["set-cookie", "b=2"],
            ]);
            res.end(JSON.stringify({ method: req.method, url: req.url, length: received.body?.length }));
            return;
          case "/binary":
            res.writeHead(200, { "content-type": "application/octet-stream" });
            for (let i = 0; i < binary.length; i += 16 * 1024) {
              res.write(binary.subarray(i, i + 16 * 1024));
              await sleep(0);
            }
            res.end();
            return;
          case "/empty":
            res.writeHead(204, { "x-empty": "yes" });
            res.end();
            return;
          case "/not-modified":
            res.writeHead(304, { etag: '"v1"' });
            res.end();
            return;
          case "/redirect":
            res.writeHead(302, { location: "/target" });
            res.end("moved");
            return;
          case "/target":
            res.end("target");
            return;
          case "/gzip":
            res.writeHead(200, { "content-encoding": "gzip", "content-type": "text/plain" });
            res.end(gzipSync(Buffer.from("compressed ✓ ".repeat(100))));
            return;
          case "/hang":
            closedEarly = new Promise<void>((resolve) => {
              signalClosed = resolve;
            });
            res.on("close", () => signalClosed());
            return; // never answers
          case "/slow-body":
            closedEarly = new Promise<void>((resolve) => {
              signalClosed = resolve;
            });
            res.on("close", () => signalClosed());
            res.writeHead(200, { "content-type": "text/plain" });
            res.write("first chunk;");
            return; // never ends
          case "/cut":
            res.writeHead(200, { "content-length": "100" });
            res.write("only part of it");
            setTimeout(() => req.socket.destroy(), 20);
            return;
          case "/reset-on-reuse": {
            // Answers the first request of a connection, and drops the connection on a second
            // one without answering: what a client sees when the server closed an idle socket.
            const socket = req.socket as Socket & { served?: number };
            socket.served = (socket.served ?? 0) + 1;
            if (socket.served > 1) {
              socket.destroy();
              return;
            }
            res.end("fresh connection");
            return;
          }
          case "/error":
            res.writeHead(503, { "content-type": "application/json" });
            res.end('{"errors":[{"code":99997,"message":"unavailable"}]}');
            return;
          default:
            res.writeHead(404);
            res.end();
        }
      });
    });
  });

  after(async () => {
    await server.close();
  });

  it("sends method, headers and body; returns status, status text, headers and body", async () => {
    const response = await transport(
      new Request(`${server.url}/echo?x=1&y=%20`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-cerberus-client": "cerberus-edge/test" },
        body: JSON.stringify({ hello: "wörld" }),
      }),
    );
    assert.ok(response instanceof Response);
    assert.equal(response.status, 201);
    assert.equal(response.statusText, "Made It");
    assert.equal(response.ok, true);
    assert.equal(response.redirected, false);
    assert.equal(response.url, `${server.url}/echo?x=1&y=%20`);
    assert.equal(response.headers.get("content-type"), "application/json");
    assert.equal(response.headers.get("x-multi"), "a, b");
    assert.deepEqual(response.headers.getSetCookie(), ["a=1", "b=2"]);
    assert.deepEqual(await response.json(), { method: "POST", url: "/echo?x=1&y=%20", length: 18 });
    assert.equal(received.headers?.["content-type"], "application/json");
    assert.equal(received.headers?.["x-cerberus-client"], "cerberus-edge/test");
    assert.equal(received.headers?.["content-length"], "18");
    assert.equal(received.headers?.host, server.url.slice("http://".length));
    assert.equal(received.body?.toString("utf8"), JSON.stringify({ hello: "wörld" }));
  });

  it("sends binary request bodies and streams binary responses byte for byte", async () => {
    const payload = new Uint8Array([0, 1, 2, 253, 254, 255]);
    const response = await transport(new Request(`${server.url}/binary`, { method: "PUT", body: payload }));
    assert.deepEqual(new Uint8Array(received.body ?? []), payload);
    assert.ok(response.body instanceof ReadableStream);
    const bytes = new Uint8Array(await response.arrayBuffer());
    assert.equal(bytes.length, binary.length);
    assert.deepEqual(bytes, binary);
  });

  it("returns error statuses as responses", async () => {
    const response = await transport(new Request(`${server.url}/error`));
    assert.equal(response.status, 503);
    assert.equal(response.ok, false);
    assert.deepEqual(await response.json(), { errors: [{ code: 99997, message: "unavailable" }] });
  });

  it("gives HEAD, 204 and 304 a null body", async () => {
    const head = await transport(new Request(`${server.url}/echo`, { method: "HEAD" }));
    assert.equal(head.status, 201);
    assert.equal(head.body, null);
    const empty = await transport(new Request(`${server.url}/empty`, { method: "DELETE" }));
    assert.equal(empty.status, 204);
    assert.equal(empty.body, null);
    assert.equal(empty.headers.get("x-empty"), "yes");
    const notModified = await transport(new Request(`${server.url}/not-modified`));
    assert.equal(notModified.status, 304);
    assert.equal(notModified.body, null);
    assert.equal(notModified.headers.get("etag"), '"v1"');
  });

  it("does not follow redirects", async () => {
    hits = {};
    const response = await transport(new Request(`${server.url}/redirect`));
    assert.equal(response.status, 302);
    assert.equal(response.headers.get("location"), "/target");
    assert.equal(await response.text(), "moved");
    assert.equal(hits["/target"], undefined);
    assert.equal(hits["/redirect"], 1);
    await assert.rejects(transport(new Request(`${server.url}/redirect`, { redirect: "error" })), TypeError);
    assert.equal(hits["/target"], undefined);
  });

  it("decodes a gzip response body", async () => {
    const response = await transport(new Request(`${server.url}/gzip`));
    assert.equal(await response.text(), "compressed ✓ ".repeat(100));
  });

  it("reuses a kept-alive connection", async () => {
    const fresh = createNodeTransport();
    const before = server.connections;
    for (let i = 0; i < 3; i++) {
      const response = await fresh(new Request(`${server.url}/echo`));
      await response.arrayBuffer();
    }
    assert.equal(server.connections - before, 1);
  });

  it("retries once on a fresh connection when a reused one was closed", async () => {
    const fresh = createNodeTransport();
    const before = server.connections;
    assert.equal(await (await fresh(new Request(`${server.url}/reset-on-reuse`))).text(), "fresh connection");
    const again = await fresh(new Request(`${server.url}/reset-on-reuse`, { method: "PUT", body: "x" }));
    assert.equal(await again.text(), "fresh connection");
    assert.equal(server.connections - before, 2);
  });

  // Deno's node:http client re-sends on a reused socket by itself, below this transport.
  it("does not retry a POST on a reused connection (the server may have processed it)", { skip: here === "deno" }, async () => {
    const fresh = createNodeTransport();
    assert.equal(await (await fresh(new Request(`${server.url}/reset-on-reuse`))).text(), "fresh connection");
    await assert.rejects(fresh(new Request(`${server.url}/reset-on-reuse`, { method: "POST", body: "x" })), TypeError);
  });

  it("opens a new connection per request with keepAlive: false", async () => {
    const fresh = createNodeTransport({ keepAlive: false });
    const before = server.connections;
    for (let i = 0; i < 2; i++) await (await fresh(new Request(`${server.url}/echo`))).arrayBuffer();
    assert.equal(server.connections - before, 2);
  });

  it("rejects at once, sending nothing, when the signal is already aborted", async () => {
    hits = {};
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(transport(new Request(`${server.url}/echo`, { signal: controller.signal })), { name: "AbortError" });
    await sleep(20);
    assert.equal(hits["/echo"], undefined);
  });

  it("aborts a pending request with the signal's reason and closes the connection", async () => {
    const controller = new AbortController();
    const pending = createNodeTransport()(new Request(`${server.url}/hang`, { signal: controller.signal }));
    await sleep(50);
    const reason = new Error("caller gave up");
    controller.abort(reason);
    await assert.rejects(pending, (error) => error === reason);
    await closedEarly;
  });

  it("aborts while the body is streaming", async () => {
    const controller = new AbortController();
    const response = await createNodeTransport()(new Request(`${server.url}/slow-body`, { signal: controller.signal }));
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), "first chunk;");
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(reader.read(), { name: "AbortError" });
    await closedEarly;
  });

  it("times out with AbortSignal.timeout", async () => {
    const started = Date.now();
    await assert.rejects(
      createNodeTransport()(new Request(`${server.url}/hang`, { signal: AbortSignal.timeout(100) })),
      { name: "TimeoutError" },
    );
    assert.ok(Date.now() - started < 2_000);
    await closedEarly;
  });

  it("times out through the core's send() with its clock", async () => {
    await assert.rejects(
      send(new Request(`${server.url}/hang`), { transport: createNodeTransport(), clock: systemClock, timeoutMs: 100, step: "request" }),
      (error: unknown) => error instanceof CerberusEdgeError && error.code === "TIMEOUT",
    );
    await closedEarly;
  });

  it("fails a body cut short by the server", async () => {
    const response = await transport(new Request(`${server.url}/cut`));
    await assert.rejects(response.arrayBuffer());
  });

  it("reports connection refused like fetch, with the code in the cause", async () => {
    const closed = await startServer(() => {});
    const url = closed.url;
    await closed.close();
    const error = await transport(new Request(`${url}/`)).then(() => assert.fail("should reject"), (e: unknown) => e);
    assert.ok(error instanceof TypeError);
    assert.equal(error.message, "fetch failed");
    assert.equal((error.cause as { code?: string }).code, "ECONNREFUSED");
    await assert.rejects(
      send(new Request(`${url}/`), { transport, clock: systemClock, timeoutMs: 2_000, step: "request" }),
      (e: unknown) => e instanceof CerberusEdgeError && e.code === "TRANSPORT_ERROR" && /ECONNREFUSED$/.test(e.message),
    );
  });

  it("is the Node adapter's default transport", () => {
    assert.equal(nodeRuntime().transport, nodeTransport);
  });

  it("lets an idle kept-alive socket not hold the process open", { skip: here !== "node" }, async () => {
    const script = [
      `import { nodeTransport } from ${JSON.stringify(new URL("../src/runtime/node.ts", import.meta.url).href)};`,
      `const r = await nodeTransport(new Request(${JSON.stringify(`${server.url}/echo`)}));`,
      `await r.arrayBuffer();`,
      `console.log(r.status);`,
    ].join("\n");
    const started = Date.now();
    const { code, stdout, stderr } = await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script]);
    assert.equal(code, 0, stderr);
    assert.equal(stdout.trim(), "201");
    // The server keeps the connection for 30 s; the child must exit long before.
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  });
});

describe("node transport: odd servers (review regressions)", () => {
  let server: TestServer;
  const body = Buffer.from("decoded ✓ ".repeat(50));

  before(async () => {
    const z = await import("node:zlib");
    server = await startServer((req, res) => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      const encoded: Record<string, [string, Buffer]> = {
        "/deflate-zlib": ["deflate", z.deflateSync(body)],
        "/deflate-raw": ["deflate", z.deflateRawSync(body)],
        "/gzip-empty": ["gzip", Buffer.alloc(0)],
        "/br": ["br", z.brotliCompressSync(body)],
        "/stacked": ["deflate, gzip", z.gzipSync(z.deflateSync(body))],
        "/unknown": ["zstd-ish", body],
      };
      const hit = encoded[path];
      if (hit) {
        res.writeHead(200, { "content-encoding": hit[0] });
        res.end(hit[1]);
        return;
      }
      res.end("ok");
    });
  });
  after(() => server.close());

  for (const [path, expected] of [
    ["/deflate-zlib", body.toString()],
    ["/deflate-raw", body.toString()],
    ["/gzip-empty", ""],
    ["/br", body.toString()],
    ["/stacked", body.toString()],
    ["/unknown", body.toString()],
  ] as const) {
    it(`decodes ${path.slice(1)} like fetch`, async () => {
      const response = await createNodeTransport()(new Request(`${server.url}${path}`));
      assert.equal(await response.text(), expected);
    });
  }

  it("a status line with a control character rejects instead of crashing the process", async () => {
    const net = await import("node:net");
    const raw = net.createServer((socket) => {
      socket.on("data", () => socket.end("HTTP/1.1 401 Unauthorized\x01\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}"));
    });
    await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = raw.address() as AddressInfo;
      const outcome = await createNodeTransport()(new Request(`http://127.0.0.1:${port}/`)).then(
        async (r) => `status ${r.status} ${JSON.stringify(r.statusText)} ${await r.text()}`,
        (e: unknown) => (e instanceof TypeError ? "TypeError" : String(e)),
      );
      assert.ok(outcome === 'status 401 "" {}' || outcome === "TypeError", outcome);
    } finally {
      await new Promise<void>((resolve) => raw.close(() => resolve()));
    }
  });

  it("aborting while a streamed request body is read rejects", async () => {
    const controller = new AbortController();
    const stream = new ReadableStream<Uint8Array>({ pull: () => new Promise(() => {}) });
    const pending = createNodeTransport()(
      new Request(`${server.url}/`, { method: "POST", body: stream, signal: controller.signal, duplex: "half" } as RequestInit),
    );
    controller.abort(new Error("stop"));
    await assert.rejects(pending, /stop/);
  });
});
