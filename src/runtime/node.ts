/**
 * The Node.js runtime adapter: `process.env`, `node:fs` for token files, and a
 * transport built on `node:http`/`node:https` with keep-alive agents.
 *
 * Why not the global `fetch`: on Node 20 undici loads lazily, in two steps. The first
 * `Request`/`Headers` costs ~15–20 ms (both paths pay it: the core builds `Request`s), and
 * the first `fetch` call then adds its dispatcher: measured here (Node 20.20, 2 cores) the
 * first `fetch` took 16–21 ms against 11–13 ms for this transport, later calls 2–6 ms
 * against ~2 ms. (The issue measured ~120 ms for the first `fetch` on another machine.)
 * A client that runs once per cold start (a CLI, a Lambda, a container entrypoint) pays
 * that on every run.
 *
 * Every `node:` module is loaded with a dynamic `import()` on first use, so this file
 * can sit in a bundle that also runs in Workers or browsers: nothing Node-specific is
 * touched until a Node runtime actually sends a request or reads a file.
 *
 * @module
 */
import type * as NodeHttp from "node:http";
import type * as NodeHttps from "node:https";
import { CerberusEdgeError } from "../errors.ts";
import type { HttpTransport } from "../transport.ts";
import type { RuntimeEnvironment } from "./types.ts";

/** Options of {@link createNodeTransport}. */
export interface NodeTransportOptions {
  /** Reuse connections between requests (default `true`). Idle sockets never keep the process alive. */
  keepAlive?: boolean;
  /** Most concurrent sockets per origin (default `Infinity`, like `fetch`). */
  maxSockets?: number;
  /** Milliseconds an idle kept-alive socket stays open (default 4000, under the usual 5 s server timeout). */
  idleTimeoutMs?: number;
}

interface NodeModules {
  http: typeof NodeHttp;
  https: typeof NodeHttps;
}

let modules: Promise<NodeModules> | undefined;

/** Loads `node:http` and `node:https` once, on first use. */
function loadModules(): Promise<NodeModules> {
  modules ??= Promise.all([import("node:http"), import("node:https")]).then(([http, https]) => ({ http, https }));
  return modules;
}

/** Redirect statuses (returned as they are, or refused with `redirect: "error"`). */
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);

/** Statuses whose responses never have a body. */
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/**
 * Creates a `fetch`-shaped transport on `node:http`/`node:https`.
 *
 * It behaves like `fetch(request, { redirect: "manual" })` with the parts a client needs:
 * - the request body is read whole and sent with a `Content-Length`;
 * - the response is a standard `Response` whose body streams from the socket
 *   (`null` for `HEAD`, 204, 205 and 304);
 * - redirects are **not** followed: a 3xx comes back as is, `Location` included (with
 *   `redirect: "error"` it rejects, as `fetch` does);
 * - the request's `AbortSignal` aborts the request, and the body stream while it is read,
 *   rejecting with the signal's reason as `fetch` does;
 * - network failures reject with `TypeError("fetch failed")` whose `cause` is the Node error
 *   (its `code`, e.g. `ECONNREFUSED`, is what the core reports);
 * - an idempotent request (GET, HEAD, PUT, DELETE, OPTIONS) on a reused keep-alive socket
 *   that the server had already closed is retried once on a fresh socket; a POST is not, since
 *   the server may have processed it before the reset;
 * - `gzip`, `deflate` and `br` response bodies are decoded, as `fetch` does.
 *
 * Agents are created on first use and shared by every call of the returned transport.
 */
export function createNodeTransport(options: NodeTransportOptions = {}): HttpTransport {
  let agents: { http: NodeHttp.Agent; https: NodeHttps.Agent } | undefined;
  const agentOptions = {
    keepAlive: options.keepAlive ?? true,
    maxSockets: options.maxSockets ?? Infinity,
    timeout: options.idleTimeoutMs ?? 4_000,
    scheduling: "lifo" as const,
  };

  return async (request) => {
    const signal = request.signal;
    if (signal?.aborted) throw abortReason(signal);
    const url = new URL(request.url);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError("fetch failed", {
        cause: new Error(`unsupported protocol ${url.protocol}`),
      });
    }
    const body = request.body === null ? undefined : new Uint8Array(await untilAbort(request.arrayBuffer(), signal));
    const mods = await loadModules();
    if (signal?.aborted) throw abortReason(signal);
    agents ??= {
      http: new mods.http.Agent(agentOptions),
      https: new mods.https.Agent(agentOptions),
    };
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    if (body !== undefined) headers["content-length"] = String(body.byteLength);
    else if (methodExpectsBody(request.method)) headers["content-length"] = "0";

    const attempt = (retry: boolean): Promise<Response> =>
      new Promise<Response>((resolve, reject) => {
        const secure = url.protocol === "https:";
        const requestOptions: NodeHttp.RequestOptions = {
          protocol: url.protocol,
          hostname: url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname,
          port: url.port || undefined,
          path: url.pathname + url.search,
          method: request.method,
          headers,
          agent: secure ? agents!.https : agents!.http,
        };
        let req: NodeHttp.ClientRequest;
        try {
          req = (secure ? mods.https : mods.http).request(requestOptions);
        } catch (error) {
          // e.g. ERR_INVALID_CHAR for a header value: fetch reports it as a TypeError too.
          return reject(new TypeError("fetch failed", { cause: error }));
        }
        let settled = false;
        let streaming = false;
        const onAbort = () => {
          const reason = abortReason(signal!);
          req.destroy(reason instanceof Error ? reason : undefined);
          if (!settled) {
            settled = true;
            reject(reason);
          }
        };
        const detach = () => signal?.removeEventListener("abort", onAbort);
        signal?.addEventListener("abort", onAbort, { once: true });

        req.on("error", (error: NodeJS.ErrnoException) => {
          if (settled || streaming) return;
          settled = true;
          detach();
          if (signal?.aborted) return reject(abortReason(signal));
          if (retry && req.reusedSocket && IDEMPOTENT.has(request.method) && (error.code === "ECONNRESET" || error.code === "EPIPE")) {
            attempt(false).then(resolve, reject);
            return;
          }
          reject(new TypeError("fetch failed", { cause: error }));
        });

        req.on("response", (res) => {
          if (settled) {
            res.destroy();
            return;
          }
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 599) {
            settled = true;
            detach();
            res.destroy();
            reject(new TypeError("fetch failed", { cause: new Error(`unexpected HTTP status ${status}`) }));
            return;
          }
          if (request.redirect === "error" && REDIRECT_STATUS.has(status)) {
            settled = true;
            detach();
            res.destroy();
            reject(new TypeError("fetch failed", { cause: new Error(`unexpected redirect (HTTP ${status})`) }));
            return;
          }
          const responseHeaders = new Headers();
          const raw = res.rawHeaders;
          for (let i = 0; i + 1 < raw.length; i += 2) responseHeaders.append(raw[i]!, raw[i + 1]!);

          let responseBody: ReadableStream<Uint8Array> | null = null;
          if (request.method === "HEAD" || NULL_BODY_STATUS.has(status)) {
            res.resume();
            res.on("end", detach);
            res.on("close", detach);
          } else {
            streaming = true;
            responseBody = bodyStream(res, signal, detach, decoderFor(responseHeaders.get("content-encoding")));
          }
          settled = true;
          let response: Response;
          try {
            response = new Response(responseBody, {
              status,
              // A reason phrase with control characters is legal on the wire for Node's
              // parser but not for Response: drop it rather than throw inside an event handler.
              statusText: /^[\t\x20-\x7e\x80-\xff]*$/.test(res.statusMessage ?? "") ? (res.statusMessage ?? "") : "",
              headers: responseHeaders,
            });
          } catch (error) {
            detach();
            res.destroy();
            reject(new TypeError("fetch failed", { cause: error }));
            return;
          }
          Object.defineProperty(response, "url", { value: request.url });
          resolve(response);
        });

        if (body !== undefined) req.end(body);
        else req.end();
      });

    return attempt(true);
  };
}

const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);

/** Rejects with the signal's reason as soon as it aborts (reading a request body ignores it). */
function untilAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  promise.catch(() => {});
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** The reason an aborted signal carries, or a standard `AbortError`. */
function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}

function methodExpectsBody(method: string): boolean {
  return method === "POST" || method === "PUT" || method === "PATCH";
}

type Coding = "gzip" | "deflate" | "br";
type Decoder = Coding[] | undefined;

/**
 * The codings to undo, last applied first, or `undefined` to pass the body through (no
 * encoding, `identity`, or one this transport does not know — as `fetch` does).
 */
function decoderFor(encoding: string | null): Decoder {
  if (!encoding) return undefined;
  const codings: Coding[] = [];
  for (const raw of encoding.split(",")) {
    const value = raw.trim().toLowerCase();
    if (value === "" || value === "identity") continue;
    if (value === "gzip" || value === "x-gzip") codings.push("gzip");
    else if (value === "deflate" || value === "br") codings.push(value);
    else return undefined;
  }
  return codings.length ? codings.reverse() : undefined;
}

/** A decompressor for one coding; deflate accepts zlib-wrapped and raw streams, like `fetch`. */
async function decompressor(coding: Coding): Promise<NodeJS.ReadWriteStream> {
  const z = await import("node:zlib");
  // Sync flush: an empty or cut body decodes to what arrived instead of failing.
  const flush = { flush: z.constants.Z_SYNC_FLUSH, finishFlush: z.constants.Z_SYNC_FLUSH };
  if (coding === "gzip") return z.createGunzip(flush);
  if (coding === "br") {
    return z.createBrotliDecompress({ flush: z.constants.BROTLI_OPERATION_FLUSH, finishFlush: z.constants.BROTLI_OPERATION_FLUSH });
  }
  const { Transform } = await import("node:stream");
  let inner: NodeJS.ReadWriteStream | undefined;
  return new Transform({
    transform(chunk: Uint8Array, _encoding, done) {
      if (!inner) {
        // RFC 1950 header: CM = 8 and the 16-bit header is a multiple of 31; else raw deflate.
        const zlibWrapped = chunk.length >= 2 && (chunk[0]! & 0x0f) === 8 && ((chunk[0]! << 8) | chunk[1]!) % 31 === 0;
        inner = zlibWrapped ? z.createInflate(flush) : z.createInflateRaw(flush);
        inner.on("data", (data: Uint8Array) => this.push(data));
        inner.on("error", (error: Error) => this.destroy(error));
      }
      inner.write(chunk, () => done());
    },
    flush(done) {
      if (!inner) return done();
      inner.once("end", () => done());
      inner.end();
    },
  });
}

/** Wraps a Node response in a web `ReadableStream`, with backpressure, abort and decoding. */
function bodyStream(
  res: NodeHttp.IncomingMessage,
  signal: AbortSignal | undefined,
  detach: () => void,
  decoder: Decoder,
): ReadableStream<Uint8Array> {
  let done = false;
  let source: NodeJS.ReadableStream = res;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const onAbort = () => fail(abortReason(signal!));
  const stop = () => {
    detach();
    signal?.removeEventListener("abort", onAbort);
  };
  const fail = (error: unknown) => {
    if (done) return;
    done = true;
    stop();
    controller.error(error);
    res.destroy();
  };
  return new ReadableStream<Uint8Array>(
    {
      async start(c) {
        controller = c;
        signal?.addEventListener("abort", onAbort, { once: true });
        res.on("close", () => {
          if (!res.complete) fail(new TypeError("terminated", { cause: new Error("connection closed before the body ended") }));
        });
        for (const coding of decoder ?? []) {
          const stream = await decompressor(coding);
          const upstream = source;
          upstream.on("error", (error: Error) => (stream as unknown as { destroy(e: Error): void }).destroy(error));
          source = upstream.pipe(stream);
        }
        source.on("data", (chunk: Uint8Array) => {
          if (done) return;
          controller.enqueue(new Uint8Array(chunk));
          if ((controller.desiredSize ?? 1) <= 0) source.pause();
        });
        source.on("end", () => {
          if (done) return;
          done = true;
          stop();
          controller.close();
        });
        source.on("error", (error: Error) => fail(new TypeError("terminated", { cause: error })));
      },
      pull() {
        source.resume();
      },
      cancel() {
        done = true;
        stop();
        res.destroy();
      },
    },
    { highWaterMark: 1 },
  );
}

let sharedTransport: HttpTransport | undefined;

/**
 * The shared default Node transport (keep-alive, see {@link createNodeTransport}).
 * `node:http` is loaded on its first call, not when this module is imported.
 */
export const nodeTransport: HttpTransport = (request) => {
  sharedTransport ??= createNodeTransport();
  return sharedTransport(request);
};

interface ProcessLike {
  env: Record<string, string | undefined>;
}

/** The Node runtime: `process.env`, `node:fs/promises` and {@link nodeTransport}. */
export function nodeRuntime(): RuntimeEnvironment {
  return {
    name: "node",
    env: (name) => {
      const value = (globalThis as { process?: ProcessLike }).process?.env[name];
      return typeof value === "string" ? value : undefined;
    },
    readTextFile: async (path) => {
      try {
        const fs = await import("node:fs/promises");
        return await fs.readFile(path, "utf8");
      } catch (error) {
        throw fileReadError(path, error);
      }
    },
    transport: nodeTransport,
  };
}

/**
 * The error every adapter throws when a file cannot be read: it names the path and the
 * system's reason code (`ENOENT`, `NotFound`, ...), never any of the file's contents.
 */
export function fileReadError(path: string, error: unknown): CerberusEdgeError {
  const code = (error as { code?: unknown } | null)?.code;
  const name = error instanceof Error ? error.name : undefined;
  const reason = typeof code === "string" && /^[A-Z][A-Z0-9_]+$/.test(code)
    ? code
    : name && name !== "Error"
    ? name
    : "read failed";
  return new CerberusEdgeError("FILE_READ_ERROR", `cannot read ${path}: ${reason}`, {
    step: "config",
    cause: error,
  });
}
