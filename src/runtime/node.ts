/**
 * The Node.js adapter: `process.env`, files through `node:fs`, and a transport on keep-alive
 * `node:http`/`node:https` that builds no `Request`, `Response` or `Headers`. A first request
 * therefore never loads Node's built-in fetch library, and a warm one costs little more than
 * the socket write and read.
 *
 * The built-ins are reached through `process.getBuiltinModule` (Node ≥ 20.16) when first needed,
 * never through an `import`, so this file sits in bundles for Workers and browsers unnoticed.
 *
 * @module
 */
import type * as NodeFs from "node:fs";
import type * as NodeHttp from "node:http";
import { CerberusEdgeError, PayloadError } from "../errors.ts";
import type { HttpTransport, TransportInit, TransportResponse } from "../transport.ts";
import { type AbortHandle, markTakesAbortHandle } from "../internal/abort-handle.ts";
import { awsHost } from "../aws/host.ts";
import type { RuntimeEnvironment } from "./types.ts";

interface NodeProcess {
  env: Record<string, string | undefined>;
  getBuiltinModule?(id: string): unknown;
}

const builtins = new Map<string, unknown>();

/** A built-in module, looked up once (a lookup may cross a loader's hooks). */
function builtin<T>(id: string): T {
  let module = builtins.get(id);
  if (module === undefined) {
    const process = (globalThis as { process?: NodeProcess }).process;
    if (typeof process?.getBuiltinModule !== "function") {
      throw new CerberusEdgeError(`${id} is out of reach: process.getBuiltinModule needs Node 20.16 or later`, {
        step: "config",
      });
    }
    builtins.set(id, module = process.getBuiltinModule(id));
  }
  return module as T;
}

// Reads only: a PUT or DELETE is idempotent by HTTP's rules, but the data API promises that a write
// is never sent twice once it may have reached the server.
const RESENDABLE = new Set(["GET", "HEAD"]);
const NO_BODY = new Set([204, 205, 304]);

/**
 * A transport on `node:http`/`node:https` with keep-alive agents (idle sockets close after 4 s and
 * never keep the process alive). It asks for `Accept-Encoding: identity` and refuses an encoded
 * answer; it never follows redirects; the signal aborts the request and the body read; an
 * read (GET, HEAD) that meets a keep-alive socket the server had just closed is sent once more.
 */
export function createNodeTransport(): HttpTransport {
  const agents = new Map<typeof NodeHttp, NodeHttp.Agent>();
  const transport: HttpTransport = (url, init) =>
    new Promise<TransportResponse>((resolve, reject) => {
      // Parsed as fetch parses it (dot segments resolved, unsafe characters escaped).
      const target = new URL(url);
      const secure = target.protocol === "https:";
      if (!secure && target.protocol !== "http:") {
        return reject(new TypeError(`unsupported protocol ${target.protocol}`));
      }
      const http = builtin<typeof NodeHttp>(secure ? "node:https" : "node:http");
      let agent = agents.get(http);
      if (!agent) agents.set(http, agent = new http.Agent({ keepAlive: true, timeout: 4000, scheduling: "lifo" }));
      const headers: Record<string, string> = { ...init.headers, "accept-encoding": "identity" };
      if (init.body !== undefined) {
        headers["content-length"] = String(
          typeof init.body === "string" ? new TextEncoder().encode(init.body).byteLength : init.body.byteLength,
        );
      }
      // What send() hands this transport may be an AbortHandle: only its abort listener is used.
      const signal: AbortHandle | undefined = init.signal;
      if (signal?.aborted) return reject(signal.reason);
      const options: NodeHttp.RequestOptions = {
        host: target.hostname.startsWith("[") ? target.hostname.slice(1, -1) : target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: init.method,
        headers,
        agent,
      };
      const send = (again: boolean) => {
        const req = http.request(options, onResponse);
        if (signal) {
          // Rejects with the signal's reason, as fetch does; the socket is destroyed.
          const onAbort = () => req.destroy(signal.reason as Error);
          signal.addEventListener("abort", onAbort);
          req.on("close", () => signal.removeEventListener("abort", onAbort));
        }
        req.on("error", (error: Error & { code?: string }) => {
          if (again && req.reusedSocket && RESENDABLE.has(init.method) && error.code === "ECONNRESET") send(false);
          else reject(error);
        });
        function onResponse(res: NodeHttp.IncomingMessage) {
          const status = res.statusCode!;
          // Looked up in rawHeaders: reading res.headers would build an object of every header.
          const headers = { get: (name: string) => rawHeader(res.rawHeaders, name) };
          const encoding = headers.get("content-encoding");
          // Node hands informational answers (1xx) to no one here; 101 only with an upgrade.
          const problem = status < 200 || status > 599
            ? `HTTP status ${status} is not a final answer`
            : encoding && encoding !== "identity"
            ? `the answer is encoded (${encoding}) although identity was asked`
            : undefined;
          if (problem) {
            res.destroy();
            return reject(new PayloadError(`${target.host}: ${problem}`, { step: "response" }));
          }
          const empty = init.method === "HEAD" || NO_BODY.has(status);
          // A body-less answer is still read to its end, which frees the socket for the next request.
          if (empty) res.resume();
          resolve({ status, headers, body: empty ? null : chunks(res) });
        }
        req.end(init.body);
      };
      send(true);
    });
  return markTakesAbortHandle(transport);
}

/** A header's value from Node's flat `[name, value, …]` list; repeated headers joined as fetch does. */
function rawHeader(raw: string[], name: string): string | null {
  let found: string | null = null;
  const wanted = name.toLowerCase();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === wanted) {
      found = found === null ? raw[i + 1]! : `${found}, ${raw[i + 1]}`;
    }
  }
  return found;
}

/** Bytes queued before the socket is paused (the reader takes each chunk as it comes). */
const HIGH_WATER = 1024 * 1024;

/**
 * The body as an async iterable. Chunks are taken from the moment the answer arrives (no pause
 * and resume between the headers and the first read); the socket pauses when a slow reader lets
 * them pile up, and is destroyed when the reader stops early.
 */
function chunks(res: NodeHttp.IncomingMessage): AsyncIterable<Uint8Array> {
  const queue: Uint8Array[] = [];
  let queued = 0;
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const notify = () => {
    const waiting = wake;
    wake = undefined;
    waiting?.();
  };
  res.on("data", (chunk: Uint8Array) => {
    queue.push(chunk);
    queued += chunk.byteLength;
    if (queued > HIGH_WATER) res.pause();
    notify();
  });
  res.once("end", () => {
    ended = true;
    notify();
  });
  res.once("error", (error) => {
    failure = error;
    notify();
  });
  res.once("close", () => {
    if (!res.complete) {
      failure ??= Object.assign(new Error("the connection closed before the body ended"), { code: "ECONNRESET" });
    }
    notify();
  });
  const next = (): Promise<IteratorResult<Uint8Array>> => {
    const value = queue.shift();
    if (value) {
      queued -= value.byteLength;
      if (res.isPaused() && queued <= HIGH_WATER) res.resume();
      return Promise.resolve({ done: false, value });
    }
    if (failure) return Promise.reject(failure);
    if (ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise<void>((resolve) => (wake = resolve)).then(next);
  };
  const iterator: AsyncIterator<Uint8Array> = {
    next,
    return(): Promise<IteratorResult<Uint8Array>> {
      res.destroy();
      return Promise.resolve({ done: true, value: undefined });
    },
  };
  return { [Symbol.asyncIterator]: () => iterator };
}

let shared: HttpTransport | undefined;

/** The Node runtime: `process.env`, `node:fs` and one shared {@link createNodeTransport}. */
export function nodeRuntime(): RuntimeEnvironment {
  return {
    name: "node",
    env: (name) => (globalThis as unknown as { process: NodeProcess }).process.env[name],
    readTextFile: (path) => builtin<typeof NodeFs>("node:fs").promises.readFile(path, "utf8"),
    transport: markTakesAbortHandle((url: string, init: TransportInit) =>
      (shared ??= createNodeTransport())(url, init)
    ),
    aws: awsHost,
  };
}
