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
 * - a request on a reused keep-alive socket that the server had already closed is retried
 *   once on a fresh socket (the server never saw it);
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
    const body = request.body === null ? undefined : new Uint8Array(await request.arrayBuffer());
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
        const req = (secure ? mods.https : mods.http).request(requestOptions);
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
          if (retry && req.reusedSocket && (error.code === "ECONNRESET" || error.code === "EPIPE")) {
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
          const response = new Response(responseBody, {
            status,
            statusText: res.statusMessage ?? "",
            headers: responseHeaders,
          });
          Object.defineProperty(response, "url", { value: request.url });
          resolve(response);
        });

        if (body !== undefined) req.end(body);
        else req.end();
      });

    return attempt(true);
  };
}

/** The reason an aborted signal carries, or a standard `AbortError`. */
function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}

function methodExpectsBody(method: string): boolean {
  return method === "POST" || method === "PUT" || method === "PATCH";
}

type Decoder = "gzip" | "deflate" | "br" | undefined;

function decoderFor(encoding: string | null): Decoder {
  const value = encoding?.trim().toLowerCase();
  return value === "gzip" || value === "x-gzip" ? "gzip" : value === "deflate" ? "deflate" : value === "br" ? "br" : undefined;
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
        if (decoder) {
          const z = await import("node:zlib");
          const stream = decoder === "gzip"
            ? z.createGunzip()
            : decoder === "deflate"
            ? z.createInflate()
            : z.createBrotliDecompress();
          res.on("error", (error) => stream.destroy(error));
          source = res.pipe(stream);
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
