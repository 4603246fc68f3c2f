/**
 * src/runtime/node.ts: the keep-alive node:http transport (under Node, and under Bun's and
 * Deno's node:http), and the Node runtime adapter. All traffic stays on loopback.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { awsHost } from "../../src/aws/host.ts";
import { AbortedError, CerberusEdgeError, PayloadError, TransportError } from "../../src/errors.ts";
import { send } from "../../src/internal/http.ts";
import { AbortHandleController, takesAbortHandle } from "../../src/internal/abort-handle.ts";
import { createNodeTransport, nodeRuntime } from "../../src/runtime/node.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import type { TransportInit, TransportResponse } from "../../src/transport.ts";
import { type Deferred, deferred, readAll, rejection, trackListeners, utf8 } from "../internal/_helpers.ts";
import { turns } from "../testing/helpers.ts";
import { canListen, here, startRawServer, startScriptedServer, startServer, type TestServer } from "./_server.ts";
import { runProcess } from "./_process.ts";

const ipv6 = await canListen("::1");

const GET: TransportInit = { method: "GET", headers: {}, redirect: "manual" };
const init = (extra: Partial<TransportInit> = {}): TransportInit => ({ ...GET, ...extra });

/** The whole body of an answer, through the library's bounded reader. */
function bodyOf(response: TransportResponse): Promise<Uint8Array> {
  return readAll(response);
}
const textOf = async (response: TransportResponse) => utf8(await bodyOf(response));

/** A GET through `send()` and a new Node transport, with a manual clock (no timeout fires). */
function sendGet(url: string, limit: number) {
  return send({ transport: createNodeTransport(), clock: new ManualClock() }, url, { method: "GET", headers: {} }, {
    step: "request",
    timeoutMs: 5000,
    limit,
  });
}

/** Reads a body to its end straight from the transport's iterable, bytes counted. */
async function drain(response: TransportResponse): Promise<number> {
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) size += chunk.byteLength;
  return size;
}

/** The next chunk of a body. */
async function firstChunk(
  response: TransportResponse,
): Promise<{ iterator: AsyncIterator<Uint8Array>; chunk: Uint8Array }> {
  assert.ok(response.body && Symbol.asyncIterator in response.body, "the Node transport gives an async iterable body");
  const iterator = (response.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  const { value } = await iterator.next();
  return { iterator, chunk: value as Uint8Array };
}

describe("node transport on loopback", () => {
  let server: TestServer;
  let hits: Record<string, number> = {};
  let received: { method?: string; headers: IncomingMessage["headers"]; body: Buffer } = {
    headers: {},
    body: Buffer.alloc(0),
  };
  /** Resolved when a /hang or /slow-body request has arrived; `closed` when its connection closed. */
  let arrived: Deferred<void> = deferred();
  let closed: Deferred<void> = deferred();
  const binary = new Uint8Array(256 * 1024).map((_, i) => (i * 7 + 3) & 0xff);
  const transport = createNodeTransport();

  const BIG = 64 * 1024 * 1024;
  let big = { written: 0, finished: false, blocked: deferred<void>() };

  const expectStalled = () => {
    arrived = deferred();
    closed = deferred();
  };

  before(async () => {
    server = await startServer((req: IncomingMessage, res: ServerResponse) => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      hits[path] = (hits[path] ?? 0) + 1;
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        received = { method: req.method, headers: req.headers, body: Buffer.concat(chunks) };
        switch (path) {
          case "/echo":
            res.writeHead(201, "Made It", [
              ["content-type", "application/json"],
              ["x-multi", "a"],
              ["x-multi", "b"],
            ]);
            res.end(JSON.stringify({ method: req.method, url: req.url, length: received.body.length }));
            return;
          case "/binary": {
            res.writeHead(200, { "content-type": "application/octet-stream" });
            let offset = 0;
            const next = () => {
              if (offset >= binary.length) return void res.end();
              res.write(binary.subarray(offset, offset += 16 * 1024));
              setImmediate(next);
            };
            next();
            return;
          }
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
          case "/identity":
            res.writeHead(200, { "content-encoding": "identity" });
            res.end("plain");
            return;
          case "/hang":
            res.on("close", () => closed.resolve());
            arrived.resolve();
            return; // never answers
          case "/slow-body":
            res.on("close", () => closed.resolve());
            res.writeHead(200, { "content-type": "text/plain" });
            res.write("first chunk;", () => arrived.resolve());
            return; // never ends
          case "/cut":
            res.writeHead(200, { "content-length": "100" });
            res.write("only part of it", () => req.socket.destroy());
            return;
          case "/reset-on-reuse": {
            // Answers the first request of a connection and drops the connection on the next one
            // without answering: what a client meets when the server closed an idle socket.
            const socket = req.socket as Socket & { served?: number };
            socket.served = (socket.served ?? 0) + 1;
            if (socket.served > 1) return void socket.destroy();
            res.end("fresh connection");
            return;
          }
          case "/endless": {
            // Writes as fast as the client takes it, until the connection closes.
            res.on("close", () => closed.resolve());
            res.writeHead(200, { "content-type": "application/octet-stream" });
            const chunk = Buffer.alloc(16 * 1024, 0x61);
            const more = () => {
              while (!res.destroyed && res.write(chunk));
              if (!res.destroyed) res.once("drain", more);
            };
            more();
            return;
          }
          case "/big": {
            // 64 MiB in 64 KiB writes that wait for "drain"; `big` tells how far it got.
            big = { written: 0, finished: false, blocked: deferred() };
            const state = big;
            res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(BIG) });
            const chunk = Buffer.alloc(64 * 1024, 0x62);
            const more = () => {
              while (state.written < BIG) {
                state.written += chunk.length;
                if (!res.write(chunk)) {
                  // Blocked: the client stopped taking bytes (or is slow); "drain" says it took them.
                  const wait = setTimeout(() => state.blocked.resolve(), 300);
                  res.once("drain", () => {
                    clearTimeout(wait);
                    more();
                  });
                  return;
                }
              }
              state.finished = true;
              state.blocked.resolve();
              res.end();
            };
            more();
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

  after(() => server.close());

  it("sends method, headers and a UTF-8 body with its byte length; returns status, headers and the body", async () => {
    const response = await transport(
      `${server.url}/echo?x=1&y=%20`,
      init({
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Cerberus-Client": "cerberus-edge/test" },
        body: JSON.stringify({ hello: "wörld" }),
      }),
    );
    assert.equal(response.status, 201);
    assert.equal(response.headers.get("Content-Type"), "application/json");
    assert.equal(response.headers.get("x-multi"), "a, b");
    assert.equal(response.headers.get("x-absent"), null);
    assert.deepEqual(JSON.parse(await textOf(response)), { method: "POST", url: "/echo?x=1&y=%20", length: 18 });
    assert.equal(received.headers["content-type"], "application/json");
    assert.equal(received.headers["x-cerberus-client"], "cerberus-edge/test");
    assert.equal(received.headers["content-length"], "18");
    assert.equal(received.headers["accept-encoding"], "identity");
    assert.equal(received.headers.host, server.url.slice("http://".length));
    assert.equal(received.body.toString("utf8"), JSON.stringify({ hello: "wörld" }));
  });

  it("asks for identity even when the caller asked for gzip", async () => {
    await textOf(await transport(`${server.url}/echo`, init({ headers: { "Accept-Encoding": "gzip, br" } })));
    assert.equal(received.headers["accept-encoding"], "identity");
  });

  it("sends binary request bodies and reads binary answers byte for byte", async () => {
    const payload = new Uint8Array([0, 1, 2, 253, 254, 255]);
    const response = await transport(`${server.url}/binary`, init({ method: "PUT", body: payload }));
    assert.deepEqual(new Uint8Array(received.body), payload);
    assert.equal(received.headers["content-length"], "6");
    const bytes = await bodyOf(response);
    assert.equal(bytes.length, binary.length);
    assert.deepEqual(bytes, binary);
  });

  it("returns error statuses as answers", async () => {
    const response = await transport(`${server.url}/error`, GET);
    assert.equal(response.status, 503);
    assert.deepEqual(JSON.parse(await textOf(response)), { errors: [{ code: 99997, message: "unavailable" }] });
  });

  it("gives HEAD, 204 and 304 a null body, and their connection goes back to the pool", async () => {
    const fresh = createNodeTransport();
    const before = server.connections;
    for (const path of ["/empty", "/not-modified", "/empty"]) {
      const answer = await fresh(`${server.url}${path}`, init({ method: path === "/empty" ? "DELETE" : "GET" }));
      assert.equal(answer.body, null);
      await turns(2);
    }
    assert.equal(server.connections - before, 1, "one connection for three body-less answers");
    const head = await transport(`${server.url}/echo`, init({ method: "HEAD" }));
    assert.equal(head.status, 201);
    assert.equal(head.body, null);
    const empty = await transport(`${server.url}/empty`, init({ method: "DELETE" }));
    assert.equal(empty.status, 204);
    assert.equal(empty.body, null);
    assert.equal(empty.headers.get("x-empty"), "yes");
    const notModified = await transport(`${server.url}/not-modified`, GET);
    assert.equal(notModified.status, 304);
    assert.equal(notModified.body, null);
    assert.equal(notModified.headers.get("etag"), '"v1"');
    assert.equal((await transport(`${server.url}/echo`, GET)).status, 201);
  });

  it("does not follow a redirect: the 3xx comes back with its Location", async () => {
    hits = {};
    const response = await transport(`${server.url}/redirect`, GET);
    assert.equal(response.status, 302);
    assert.equal(response.headers.get("location"), "/target");
    assert.equal(await textOf(response), "moved");
    assert.equal(hits["/redirect"], 1);
    assert.equal(hits["/target"], undefined);
  });

  it("refuses an encoded answer with a PayloadError naming the host and the encoding", async () => {
    const error = await rejection(transport(`${server.url}/gzip`, GET));
    assert.ok(error instanceof PayloadError);
    assert.equal(error.code, "INVALID_PAYLOAD");
    assert.equal(
      error.message,
      `${server.url.slice("http://".length)}: the answer is encoded (gzip) although identity was asked`,
    );
    const viaSend = await rejection(
      send({ transport, clock: new ManualClock() }, `${server.url}/gzip`, { method: "GET", headers: {} }, {
        step: "request",
        timeoutMs: 5000,
        limit: 1024,
      }),
    );
    assert.ok(viaSend instanceof PayloadError, "passed through send() unchanged");
  });

  it("accepts an answer labelled Content-Encoding: identity", async () => {
    assert.equal(await textOf(await transport(`${server.url}/identity`, GET)), "plain");
  });

  it("a URL without a path asks for /; a protocol other than http: or https: is refused before any request", async () => {
    hits = {};
    const answer = await createNodeTransport()(server.url.replace(/\/$/, ""), GET);
    assert.equal(answer.status, 404);
    assert.deepEqual(hits, { "/": 1 });
    for (const url of ["ftp://127.0.0.1/x", "file:///etc/passwd"]) {
      const error = await rejection(createNodeTransport()(url, GET));
      assert.ok(error instanceof TypeError, String(error));
      assert.match((error as Error).message, /^unsupported protocol (ftp|file):$/);
    }
  });

  it("reuses a kept-alive connection", async () => {
    const fresh = createNodeTransport();
    const before = server.connections;
    for (let i = 0; i < 3; i++) await bodyOf(await fresh(`${server.url}/echo`, GET));
    assert.equal(server.connections - before, 1);
  });

  it("sends a read once more on a fresh connection when the reused one was closed", async () => {
    const fresh = createNodeTransport();
    const before = server.connections;
    assert.equal(await textOf(await fresh(`${server.url}/reset-on-reuse`, GET)), "fresh connection");
    assert.equal(await textOf(await fresh(`${server.url}/reset-on-reuse`, GET)), "fresh connection");
    assert.equal(await textOf(await fresh(`${server.url}/reset-on-reuse`, init({ method: "HEAD" }))), "");
    assert.equal(server.connections - before, 3, "each read on a dropped connection went out once more, on a new one");
  });

  // Deno's node:http client re-sends a request on a reused socket by itself, below this transport.
  it("never sends a write (POST, PUT, DELETE) again on a reused connection (the server may have acted on it)", {
    skip: here === "deno" && "Deno's node:http retries below the transport",
  }, async () => {
    for (const method of ["POST", "PUT", "DELETE"]) {
      const fresh = createNodeTransport();
      assert.equal(await textOf(await fresh(`${server.url}/reset-on-reuse`, GET)), "fresh connection");
      hits = {};
      const error = await rejection(fresh(`${server.url}/reset-on-reuse`, init({ method, body: "x" })));
      assert.equal((error as { code?: string }).code, "ECONNRESET", method);
      assert.equal(hits["/reset-on-reuse"], 1, `${method} sent once`);
    }
  });

  it("with an already-aborted signal, rejects and sends nothing", async () => {
    hits = {};
    const error = await rejection(
      createNodeTransport()(`${server.url}/never`, init({ method: "PUT", body: "x", signal: AbortSignal.abort() })),
    );
    assert.equal((error as Error).name, "AbortError");
    await bodyOf(await createNodeTransport()(`${server.url}/echo`, GET));
    assert.deepEqual(hits, { "/echo": 1 }, "the aborted request never reached the server");
  });

  it("an abort while waiting for the headers rejects and closes the connection", async () => {
    expectStalled();
    const controller = new AbortController();
    const pending = rejection(createNodeTransport()(`${server.url}/hang`, init({ signal: controller.signal })));
    await arrived.promise;
    controller.abort(new Error("caller gave up"));
    const error = (await pending) as Error;
    assert.ok(error.name === "AbortError" || error.message === "caller gave up", String(error));
    await closed.promise;
  });

  it("takes the library's abort handle (send() gives it one): an abort while waiting closes the connection", async () => {
    assert.equal(takesAbortHandle(createNodeTransport()), true);
    assert.equal(takesAbortHandle(nodeRuntime().transport), true);
    expectStalled();
    const controller = new AbortHandleController();
    const pending = rejection(
      createNodeTransport()(`${server.url}/hang`, init({ signal: controller.signal as AbortSignal })),
    );
    await arrived.promise;
    controller.abort();
    assert.equal(((await pending) as Error).name, "AbortError");
    await closed.promise;
  });

  it("an abort while the body streams rejects the read and closes the connection", async () => {
    expectStalled();
    const controller = new AbortController();
    const response = await createNodeTransport()(`${server.url}/slow-body`, init({ signal: controller.signal }));
    assert.equal(response.status, 200);
    const { iterator, chunk } = await firstChunk(response);
    assert.equal(utf8(chunk), "first chunk;");
    await arrived.promise;
    const next = rejection(iterator.next());
    controller.abort();
    assert.ok((await next) instanceof Error);
    await closed.promise;
  });

  it("send() with a manual clock: a TIMEOUT closes the connection, headers pending or body streaming", async () => {
    for (const path of ["/hang", "/slow-body"]) {
      expectStalled();
      const clock = new ManualClock();
      const pending = rejection(
        send({ transport: createNodeTransport(), clock }, `${server.url}${path}`, { method: "GET", headers: {} }, {
          step: "request",
          timeoutMs: 2000,
          limit: 1024,
        }),
      );
      await arrived.promise;
      await clock.advance(2000);
      const error = await pending;
      assert.ok(error instanceof TransportError, path);
      assert.equal(error.code, "TIMEOUT");
      await closed.promise;
    }
  });

  it("send() with the caller's abort on an answer that is streaming: ABORTED, and the connection closes", async () => {
    expectStalled();
    const controller = new AbortController();
    const pending = rejection(
      send({ transport: createNodeTransport(), clock: new ManualClock() }, `${server.url}/slow-body`, {
        method: "GET",
        headers: {},
      }, { step: "request", timeoutMs: 2000, limit: 1024, signal: controller.signal }),
    );
    await arrived.promise;
    controller.abort();
    assert.ok((await pending) instanceof AbortedError);
    await closed.promise;
  });

  it("a body cut short by the server fails the read (ECONNRESET), and send() says TRANSPORT_ERROR", async () => {
    const response = await createNodeTransport()(`${server.url}/cut`, GET);
    const error = await rejection(drain(response));
    assert.equal((error as { code?: string }).code, "ECONNRESET");
    const viaSend = await rejection(sendGet(`${server.url}/cut`, 1024));
    assert.ok(viaSend instanceof TransportError);
    assert.equal(viaSend.code, "TRANSPORT_ERROR");
    assert.match(viaSend.message, /^request to 127\.0\.0\.1:\d+ failed: [A-Z_]+$/);
  });

  it("a refused connection rejects with ECONNREFUSED; send() names the host only", async () => {
    const gone = await startServer(() => {});
    const url = gone.url;
    await gone.close();
    const error = await rejection(transport(`${url}/secret/path?token=abc`, GET));
    assert.equal((error as { code?: string }).code, "ECONNREFUSED");
    const viaSend = await rejection(
      send({ transport, clock: new ManualClock() }, `${url}/secret/path?token=abc`, { method: "GET", headers: {} }, {
        step: "request",
        timeoutMs: 5000,
        limit: 1024,
      }),
    );
    assert.ok(viaSend instanceof TransportError);
    assert.equal(viaSend.message, `request to ${url.slice("http://".length)} failed: ECONNREFUSED`);
  });

  it("a slow reader pauses the socket (the server cannot send it all), and the whole body still arrives", async () => {
    const response = await createNodeTransport()(`${server.url}/big`, GET);
    await big.blocked.promise;
    assert.equal(big.finished, false, "the server could not write 64 MiB to a reader that took none");
    assert.ok(big.written < BIG / 2, `${big.written} bytes written before the server was held back`);
    assert.equal(await drain(response), BIG);
    assert.equal(big.finished, true);
  });

  it("a body refused for its size closes its connection, without any abort", async () => {
    expectStalled();
    const error = await rejection(sendGet(`${server.url}/endless`, 100_000));
    assert.ok(error instanceof PayloadError);
    await closed.promise;
  });

  it("leaves no listener on the request's signal once the answer is read", async () => {
    const signal = new AbortController().signal;
    const listeners = trackListeners(signal);
    const fresh = createNodeTransport();
    for (let i = 0; i < 3; i++) await bodyOf(await fresh(`${server.url}/echo`, init({ signal })));
    await turns(2);
    assert.equal(listeners.active, 0);
  });

  it("an https: URL is spoken to with TLS (a plain-http server cannot answer it)", async () => {
    hits = {};
    const error = await rejection(createNodeTransport()(`${server.url.replace("http:", "https:")}/echo`, GET));
    assert.ok(!(error instanceof TypeError), String(error));
    assert.equal(typeof (error as { code?: unknown }).code, "string", "a TLS failure with its code");
    assert.deepEqual(hits, {}, "no plain-http request reached the server");
  });

  it("looks each built-in module up once", async () => {
    const proc = process as unknown as { getBuiltinModule(id: string): unknown };
    const original = proc.getBuiltinModule;
    let lookups = 0;
    proc.getBuiltinModule = (id: string) => {
      lookups++;
      return original.call(process, id);
    };
    try {
      const fresh = createNodeTransport();
      for (let i = 0; i < 3; i++) await bodyOf(await fresh(`${server.url}/echo`, GET));
    } finally {
      proc.getBuiltinModule = original;
    }
    assert.equal(lookups, 0, "node:http was looked up by an earlier request and kept");
  });

  it("without process.getBuiltinModule (Node before 20.16) a request fails with an error that says so", async () => {
    const specifier = `./../../src/runtime/node.ts?without-builtins`;
    const isolated = (await import(specifier)) as typeof import("../../src/runtime/node.ts");
    const proc = process as unknown as { getBuiltinModule?: unknown };
    const original = proc.getBuiltinModule;
    proc.getBuiltinModule = undefined;
    let error: unknown;
    try {
      error = await rejection(isolated.createNodeTransport()(`${server.url}/echo`, GET));
    } finally {
      proc.getBuiltinModule = original;
    }
    assert.ok(error instanceof CerberusEdgeError, String(error));
    assert.equal(error.message, "node:http is out of reach: process.getBuiltinModule needs Node 20.16 or later");
    assert.equal(error.step, "config");
  });

  it("an IPv6 loopback URL works", { skip: !ipv6 && "this machine has no ::1" }, async () => {
    const v6 = await startServer((_req, res) => res.end("over ::1"), "::1");
    try {
      assert.match(v6.url, /^http:\/\/\[::1\]:\d+$/);
      assert.equal(await textOf(await createNodeTransport()(`${v6.url}/x`, GET)), "over ::1");
    } finally {
      await v6.close();
    }
  });
});

describe("node transport: servers that misbehave", () => {
  for (
    const [name, raw] of [
      [
        "a status line with a control character",
        "HTTP/1.1 401 Unauthorized\x01\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
      ],
      ["a status line that is not HTTP", "SSH-2.0-OpenSSH_9.6\r\n\r\n"],
      ["a status code that is not a number", "HTTP/1.1 abc OK\r\ncontent-length: 0\r\n\r\n"],
    ] as const
  ) {
    it(`${name} rejects (or answers) instead of crashing the process`, async () => {
      const raw$ = await startRawServer(raw);
      try {
        const outcome = await createNodeTransport()(`${raw$.url}/`, GET).then(
          async (r) => `status ${r.status} ${await textOf(r)}`,
          (e: unknown) => (e instanceof Error ? "rejected" : `odd rejection ${String(e)}`),
        );
        assert.ok(outcome === "rejected" || outcome === "status 401 {}", outcome);
      } finally {
        await raw$.close();
      }
    });
  }

  it("a status under 200 that reaches the transport (a malformed 099) is a PayloadError", async () => {
    const raw$ = await startRawServer("HTTP/1.1 099 Low\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    try {
      const outcome = await createNodeTransport()(`${raw$.url}/`, GET).then((r) => r.status, (e: unknown) => e);
      assert.ok(outcome instanceof PayloadError || outcome instanceof Error, `answered ${String(outcome)}`);
      if (outcome instanceof PayloadError) assert.match(outcome.message, /HTTP status 99 is not a final answer$/);
    } finally {
      await raw$.close();
    }
  });

  it("a status outside 200–599 is a PayloadError; 599 itself is an answer", async () => {
    const raw$ = await startRawServer("HTTP/1.1 999 Odd\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    try {
      const error = await rejection(createNodeTransport()(`${raw$.url}/`, GET));
      assert.ok(error instanceof PayloadError, String(error));
      assert.match(error.message, /HTTP status 999 is not a final answer$/);
      assert.equal(error.step, "response");
    } finally {
      await raw$.close();
    }
    const edge$ = await startRawServer("HTTP/1.1 599 Edge\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    try {
      assert.equal((await createNodeTransport()(`${edge$.url}/`, GET)).status, 599);
    } finally {
      await edge$.close();
    }
  });
});

describe("node transport: when a read is sent again", () => {
  const HELLO = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: keep-alive\r\n\r\nhello";

  it("a fresh connection reset before the answer is not tried again", async () => {
    const server = await startScriptedServer((socket) => socket.destroy());
    try {
      const error = await rejection(createNodeTransport()(`${server.url}/`, GET));
      assert.equal((error as { code?: string }).code, "ECONNRESET");
      assert.equal(server.connections, 1, "sent once");
    } finally {
      await server.close();
    }
  });

  it("a reused connection that answers garbage is not tried again (only a reset is)", async () => {
    const server = await startScriptedServer((socket, nth) => socket.write(nth === 1 ? HELLO : "garbage\r\n\r\n"));
    try {
      const fresh = createNodeTransport();
      assert.equal(await textOf(await fresh(`${server.url}/`, GET)), "hello");
      const outcome = await fresh(`${server.url}/`, GET).then((r) => `status ${r.status}`, (e: unknown) => e);
      assert.ok(outcome instanceof Error, String(outcome));
      assert.equal(server.connections, 1, "no second connection");
    } finally {
      await server.close();
    }
  });

  // Deno's node:http may itself send a request again below the transport, so what is counted is
  // the requests this transport makes, not the connections the server sees.
  it("is sent again once only: a second dropped kept-alive connection is not retried by the transport", async () => {
    const server = await startScriptedServer((socket, nth) => (nth === 1 ? socket.write(HELLO) : socket.destroy()));
    const proc = process as unknown as { getBuiltinModule(id: string): unknown };
    const original = proc.getBuiltinModule;
    let requests = 0;
    proc.getBuiltinModule = (id: string) => {
      const module = original.call(process, id) as typeof import("node:http");
      if (id !== "node:http") return module;
      return {
        ...module,
        Agent: module.Agent,
        request: (...args: Parameters<typeof module.request>) => {
          requests++;
          return module.request(...args);
        },
      };
    };
    try {
      const specifier = `./../../src/runtime/node.ts?counting-requests`;
      const { createNodeTransport: counted } = (await import(specifier)) as typeof import("../../src/runtime/node.ts");
      const fresh = counted();
      // Two connections in the pool, each answered once.
      const both = await Promise.all([fresh(`${server.url}/`, GET), fresh(`${server.url}/`, GET)]);
      for (const answer of both) assert.equal(await textOf(answer), "hello");
      requests = 0;
      await fresh(`${server.url}/`, GET).then(() => {}, () => {});
      assert.equal(requests, 2, "the read was sent once and again once, not a third time");
    } finally {
      proc.getBuiltinModule = original;
      await server.close();
    }
  });
});

describe("nodeRuntime", () => {
  it("reads process.env, UTF-8 files, and has the AWS host", async () => {
    const runtime = nodeRuntime();
    assert.equal(runtime.name, "node");
    assert.equal(runtime.aws, awsHost);
    const name = `CERBERUS_EDGE_TEST_NODE_RUNTIME_${here.toUpperCase()}`;
    process.env[name] = "from-env ✓";
    try {
      assert.equal(runtime.env(name), "from-env ✓");
      assert.equal(runtime.env(`${name}_UNSET`), undefined);
    } finally {
      delete process.env[name];
    }
    const dir = await mkdtemp(join(tmpdir(), "cerberus-edge-node-runtime-"));
    try {
      await writeFile(join(dir, "token"), "eyJ0b2tlbiI6dHJ1ZX0 ✓\n");
      assert.equal(await runtime.readTextFile(join(dir, "token")), "eyJ0b2tlbiI6dHJ1ZX0 ✓\n");
      const missing = await rejection(runtime.readTextFile(join(dir, "missing")));
      assert.equal((missing as { code?: string }).code, "ENOENT");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("every Node runtime shares one keep-alive transport", async () => {
    const server = await startServer((_req, res) => res.end("ok"));
    try {
      const before = server.connections;
      for (const runtime of [nodeRuntime(), nodeRuntime(), nodeRuntime()]) {
        assert.equal(await textOf(await runtime.transport(`${server.url}/`, GET)), "ok");
      }
      assert.equal(server.connections - before, 1);
    } finally {
      await server.close();
    }
  });

  it("an idle kept-alive socket does not keep a Node process alive", {
    skip: here !== "node" && "a Node child process",
  }, async () => {
    const server = await startServer((_req, res) => res.end("ok"));
    const dir = await mkdtemp(join(tmpdir(), "cerberus-edge-idle-"));
    try {
      const script = join(dir, "idle.mts");
      await writeFile(
        script,
        [
          `import { createNodeTransport } from ${
            JSON.stringify(new URL("../../src/runtime/node.ts", import.meta.url).href)
          };`,
          `const transport = createNodeTransport();`,
          `const r = await transport(${
            JSON.stringify(`${server.url}/`)
          }, { method: "GET", headers: {}, redirect: "manual" });`,
          `for await (const _ of r.body) {}`,
          `setImmediate(() => console.log(JSON.stringify({ status: r.status, active: process.getActiveResourcesInfo() })));`,
        ].join("\n"),
      );
      const root = fileURLToPath(new URL("../..", import.meta.url));
      const { code, stdout, stderr } = await run(process.execPath, ["--import", "tsx", script], root);
      assert.equal(code, 0, stderr);
      const result = JSON.parse(stdout.trim()) as { status: number; active: string[] };
      assert.equal(result.status, 200);
      // The server keeps the connection open for 30 s; the child's idle socket must not be a live resource.
      assert.ok(!result.active.includes("TCPSocketWrap"), JSON.stringify(result.active));
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function run(command: string, args: string[], cwd: string) {
  return runProcess(command, args, cwd, { ...process.env, NODE_TEST_CONTEXT: undefined });
}
